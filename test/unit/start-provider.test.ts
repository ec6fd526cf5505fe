// The program's first invoke, which makes the engine start the provider process while the program
// loads: sent with the token our provider host answers, not waited for, its failure left to the
// first resource to report.
import { describe, expect, it } from "vitest";
import { START_PROVIDER_TOKEN, startProvider } from "../../engine/start-provider";

describe("startProvider", () => {
  it("sends the start invoke to the default dynamic provider and returns before it is answered", async () => {
    const sent: string[] = [];
    await startProvider((token) => {
      sent.push(token);
      return new Promise(() => undefined);
    });
    expect(sent).toEqual([START_PROVIDER_TOKEN]);
    expect(START_PROVIDER_TOKEN.split(":")[0]).toBe("pulumi-nodejs");
  });

  it("leaves a failed start to the first resource: no unhandled rejection", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      await startProvider(() => Promise.reject(new Error("could not start the provider")));
      await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });
});
