// What a provider operation writes to this process's stderr (its warnings: see provider/warning.ts).
import { vi } from "vitest";

export async function stderrOf(run: () => Promise<unknown>): Promise<string> {
  const spy = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  try {
    await run();
    return spy.mock.calls.map((c) => String(c[0])).join("");
  } finally {
    spy.mockRestore();
  }
}
