// Our pulumi-resource-pulumi-nodejs: the SDK's dynamic-provider server, started without the SDK's
// closure serializer. Spoken to over gRPC as the engine would, with a provider whose code reports
// what the server process has loaded.
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot, toolsRoot } from "../../testbed/engine";
import { resolveServer } from "../../engine/provider-host";
import { START_PROVIDER_TOKEN } from "../../engine/start-provider";
import { isProviderProcess } from "../../transport/process-guard";

const providerGrpc = require("@pulumi/pulumi/proto/provider_grpc_pb");
const providerPb = require("@pulumi/pulumi/proto/provider_pb");
const structPb = require("google-protobuf/google/protobuf/struct_pb");

// A provider as the SDK's serializer would write one: a module whose handler() returns it.
const PROVIDER = `exports.handler = () => ({
  async check(olds, news) {
    const loaded = Object.keys(require.cache).filter((k) => /node_modules\\/(typescript|@npmcli\\/arborist)\\//.test(k));
    return { inputs: { ...news, loaded: loaded.length, script: process.argv[1] } };
  },
  async create(inputs) {
    // Code that needs the SDK's whole runtime still gets it.
    const runtime = require("@pulumi/pulumi").runtime;
    return { id: "made-" + inputs.name, outs: { serializer: typeof runtime.serializeFunction } };
  },
});`;

describe("the provider host", () => {
  let host: ChildProcess;
  let client: grpc.Client & Record<string, (req: unknown, cb: (err: Error | null, res: unknown) => void) => void>;
  const call = <T>(method: string, req: unknown) =>
    new Promise<T>((resolve, reject) => client[method](req, (err, res) => (err ? reject(err) : resolve(res as T))));

  beforeAll(async () => {
    // The engine passes its own address; the server only needs one to be given.
    host = spawn(process.execPath, [path.join(toolsRoot, "engine", "provider-host.js"), "127.0.0.1:1"], {
      cwd: projectRoot,
      stdio: ["ignore", "pipe", "inherit"],
    });
    const port = await new Promise<string>((resolve, reject) => {
      let out = "";
      host.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("\n")) resolve(out.trim());
      });
      host.on("exit", (code) => reject(new Error(`provider host exited (${code}) before it listened`)));
    });
    expect(port).toMatch(/^\d+$/);
    client = new providerGrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });
  afterAll(() => {
    client?.close();
    host?.kill();
  });

  it("serves Check without loading the closure serializer's TypeScript or arborist", async () => {
    const req = new providerPb.CheckRequest();
    req.setUrn("urn:pulumi:dev::p::pulumi-nodejs:dynamic/test:Thing::one");
    req.setOlds(structPb.Struct.fromJavaScript({}));
    req.setNews(structPb.Struct.fromJavaScript({ __provider: PROVIDER, name: "one" }));
    const res = await call<{ getInputs(): { toJavaScript(): Record<string, unknown> }; getFailuresList(): unknown[] }>("check", req);
    expect(res.getFailuresList()).toEqual([]);
    const inputs = res.getInputs().toJavaScript();
    expect(inputs).toMatchObject({ name: "one", loaded: 0 });
    // The providers' process guard finds itself in its provider process.
    expect(isProviderProcess(["node", inputs.script as string])).toBe(true);
  });

  it("loads the SDK's real runtime for provider code that asks for it", async () => {
    const req = new providerPb.CreateRequest();
    req.setUrn("urn:pulumi:dev::p::pulumi-nodejs:dynamic/test:Thing::one");
    req.setProperties(structPb.Struct.fromJavaScript({ __provider: PROVIDER, name: "one" }));
    const res = await call<{ getId(): string; getProperties(): { toJavaScript(): Record<string, unknown> } }>("create", req);
    expect(res.getId()).toBe("made-one");
    expect(res.getProperties().toJavaScript()).toMatchObject({ serializer: "function" });
  });

  it("answers the program's first invoke (engine/start-provider.ts) with nothing, and no other function", async () => {
    const invoke = (tok: string) => {
      const req = new providerPb.InvokeRequest();
      req.setTok(tok);
      req.setArgs(structPb.Struct.fromJavaScript({}));
      return call<{ getFailuresList(): unknown[]; getReturn(): unknown }>("invoke", req);
    };
    const res = await invoke(START_PROVIDER_TOKEN);
    expect(res.getFailuresList()).toEqual([]);
    expect(res.getReturn()).toBeUndefined();
    await expect(invoke("pulumi-nodejs:vm-cluster:noSuchFunction")).rejects.toThrow(/unknown function pulumi-nodejs:vm-cluster:noSuchFunction/);
  });

  it("takes the project's own SDK first, else its own", () => {
    const own = resolveServer("/nonexistent-project", projectRoot);
    expect(own).toBe(require.resolve("@pulumi/pulumi/cmd/dynamic-provider", { paths: [projectRoot] }));
    expect(() => resolveServer("/nonexistent-project", "/nonexistent-root")).toThrow(
      /is not installed in \/nonexistent-project or \/nonexistent-root: run the project's setup \(npm ci\)/,
    );
  });
});
