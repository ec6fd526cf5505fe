// The program's first invoke, which makes the engine start the provider process while the program
// loads: sent with the token our provider host answers, not waited for, its failure left to the
// first resource to report.
import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../testbed/engine";
import { START_PROVIDER_TOKEN, sendStartInvoke, startProvider, startsDynamicProvider } from "../../engine/start-provider";

const resourceGrpc = require("@pulumi/pulumi/proto/resource_grpc_pb");
const resourcePb = require("@pulumi/pulumi/proto/resource_pb");

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

describe("sendStartInvoke (our language host, as it starts the program)", () => {
  it("sends the start invoke to the engine's resource monitor", async () => {
    const server = new grpc.Server();
    const received = new Promise<string>((resolve) => {
      server.addService(resourceGrpc.ResourceMonitorService, {
        invoke(call: { request: { getTok(): string } }, cb: (err: Error | null, res: unknown) => void) {
          resolve(call.request.getTok());
          cb(null, new resourcePb.ResourceInvokeResponse());
        },
      });
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    try {
      sendStartInvoke(`127.0.0.1:${port}`, projectRoot);
      expect(await received).toBe(START_PROVIDER_TOKEN);
    } finally {
      server.forceShutdown();
    }
  });

  it("is asked for by the project's runtime option startDynamicProvider only", () => {
    expect(startsDynamicProvider({ typescript: true, startDynamicProvider: true })).toBe(true);
    expect(startsDynamicProvider({ typescript: true })).toBe(false);
    expect(startsDynamicProvider({ startDynamicProvider: "yes" })).toBe(false);
    expect(startsDynamicProvider(undefined)).toBe(false);
  });
});
