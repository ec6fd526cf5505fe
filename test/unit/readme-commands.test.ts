// Every command README.md shows is run by a test (which takes its text from README through
// readmeCommand, so it fails when README changes) or by CI; none can go stale unnoticed.
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { readmeCommand, shownCommands } from "../support/readme";

const ROOT = path.resolve(__dirname, "../..");
const TEST_DIR = path.join(ROOT, "test");

/**
 * Shown commands not run through readmeCommand, and the file that shows they run anyway: that file
 * must contain the evidence text. Anything else shown must be run by a test.
 */
const RUN_ELSEWHERE: { command: string; file: string; evidence: string; why: string }[] = [
  { command: "npm test", file: ".ci/run", evidence: "\nnpm test\n", why: "CI runs exactly the test command" },
  { command: "npm ci", file: "tools/setup.sh", evidence: "npm ci", why: "set-up runs it, in every test run" },
  { command: "virsh start", file: "bench/floor.ts", evidence: '"start"', why: "the benchmark's floor starts its VM with plain virsh" },
  { command: "ip netns exec", file: "tools/demo.sh", evidence: "ip netns exec $netns }ssh", why: "the demo prints its ssh commands with it, and test/e2e/demo.test.ts runs them" },
];

/** The text of every readmeCommand("...") call in the tests (string literals only). */
function commandsRunByTests(): Map<string, string[]> {
  const runBy = new Map<string, string[]>();
  // Not this file: its own calls only check readmeCommand itself.
  const files = (readdirSync(TEST_DIR, { recursive: true }) as string[]).filter((f) => f.endsWith(".ts") && f !== path.join("unit", path.basename(__filename)));
  for (const file of files) {
    const source = readFileSync(path.join(TEST_DIR, file), "utf8");
    for (const match of source.matchAll(/readmeCommand\(\s*(["'`])((?:\\.|(?!\1)[^\\])*)\1/g)) {
      const text = match[2]!.replace(/\\(.)/g, "$1");
      runBy.set(text, [...(runBy.get(text) ?? []), `test/${file}`]);
    }
  }
  return runBy;
}

/**
 * `pulumi refresh` in prose is run whenever `pulumi refresh --clear-pending-creates --yes` is, and
 * `npm run bench` whenever `BENCH_SIZES=1 npm run bench` is (leading VAR=value settings aside).
 */
function isPrefixOf(short: string, long: string): boolean {
  const command = long.replace(/^(?:[A-Z_]+=\S+\s+)+/, "");
  return command === short || command.startsWith(`${short} `);
}

describe("README.md's commands", () => {
  const shown = shownCommands();
  const runBy = commandsRunByTests();

  it("are found: the sh blocks and the commands in the prose", () => {
    const texts = shown.map((c) => c.text);
    expect(texts).toEqual(expect.arrayContaining(["npm run demo", "npm test", "pulumi up", "pulumi destroy", "ssh -F anemoi.ssh_config boreas"]));
    expect(shown.filter((c) => c.kind === "inline").map((c) => c.text)).toContain("npm run demo:down");
    // Comments are not part of a command.
    expect(texts.filter((t) => t.includes("#"))).toEqual([]);
  });

  it("are each run by a test or by CI", () => {
    const elsewhere = new Map(RUN_ELSEWHERE.map((e) => [e.command, e]));
    const ran = [...runBy.keys()];
    const unexercised = shown
      .filter((c) => !runBy.has(c.text) && !elsewhere.has(c.text))
      // A command named in the prose by its first words is run when the full command is.
      .filter((c) => !(c.kind === "inline" && ran.some((r) => shown.some((s) => s.text === r) && isPrefixOf(c.text, r))))
      .map((c) => `README.md:${c.line}: ${c.text}`);
    expect(unexercised, "commands README shows that no test runs: run them in a test through readmeCommand(...)").toEqual([]);
  });

  it("run elsewhere are still shown, and their evidence still holds", () => {
    for (const entry of RUN_ELSEWHERE) {
      expect(shown.map((c) => c.text), entry.why).toContain(entry.command);
      expect(readFileSync(path.join(ROOT, entry.file), "utf8"), `${entry.file}: ${entry.why}`).toContain(entry.evidence);
    }
  });

  it("run by tests are all still in README", () => {
    const stale = [...runBy].filter(([text]) => !shown.some((c) => c.text === text)).map(([text, files]) => `${files.join(", ")}: ${text}`);
    expect(stale).toEqual([]);
  });

  it("readmeCommand refuses text README does not show, and fills in placeholders", () => {
    expect(() => readmeCommand("pulumi up --target everything")).toThrow(/README.md no longer shows the command/);
    expect(readmeCommand("ps -p N", { N: "42" })).toBe("ps -p 42");
    expect(() => readmeCommand("pulumi up", { "<vm>": "boreas" })).toThrow(/has no placeholder <vm>/);
  });
});
