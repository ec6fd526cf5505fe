// A dynamic resource's provider code is serialized once per compile of the program, then read from
// the compile's folder: which file, when it is written and read, and never a secret on disk.
import { createRequire } from "node:module";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { COMPILED_PROGRAM_ENV, keptPath, packedProvider, serializedProvider } from "../../provider/dynamic-resource";
import { COMPILED_PROGRAM_ENV as LANGUAGE_HOST_ENV } from "../../engine/compiled-program";

const closure = createRequire(__filename)("@pulumi/pulumi/runtime/closure/serializeClosure") as { serializeFunction: unknown };
const original = closure.serializeFunction;
let calls: unknown[] = [];
let dir: string;
let env: NodeJS.ProcessEnv;
let n = 0;
/** A resource type no other test used: each program run serializes a provider once, by type. */
const freshType = () => `vm-cluster:Test${++n}`;
const serializeAs = (text: string, containsSecrets = false) => {
  closure.serializeFunction = async (fn: () => unknown) => {
    calls.push(fn());
    return { text, containsSecrets };
  };
};

beforeEach(() => {
  calls = [];
  dir = mkdtempSync(path.join(tmpdir(), "vmc-dynres-"));
  env = { [COMPILED_PROGRAM_ENV]: dir };
});
afterEach(() => {
  closure.serializeFunction = original;
  rmSync(dir, { recursive: true, force: true });
});

describe("serializedProvider", () => {
  it("is told the compile's folder under the name the language host sets", () => {
    expect(COMPILED_PROGRAM_ENV).toBe(LANGUAGE_HOST_ENV);
    expect(keptPath(env, "vm-cluster:Domain")).toBe(path.join(dir, ".providers", "vm-cluster_Domain.json"));
    expect(keptPath({}, "vm-cluster:Domain")).toBeUndefined();
  });

  it("serializes a provider once per run and keeps its code in the compile's folder", async () => {
    const provider = { create: async () => ({ id: "x" }) };
    const type = freshType();
    serializeAs("exports.handler = 1;");
    const first = await serializedProvider(provider, type, env);
    expect(first).toEqual({ text: packedProvider("exports.handler = 1;"), containsSecrets: false });
    expect(await serializedProvider(provider, type, env)).toEqual(first);
    expect(calls).toEqual([provider]);
    expect(JSON.parse(readFileSync(keptPath(env, type)!, "utf8"))).toEqual(first);
  });

  it("reads the kept code in a later run instead of serializing again", async () => {
    const type = freshType();
    mkdirSync(path.join(dir, ".providers"));
    writeFileSync(keptPath(env, type)!, JSON.stringify({ text: "exports.handler = 'kept';", containsSecrets: false }));
    serializeAs("exports.handler = 'fresh';");
    expect((await serializedProvider({}, type, env)).text).toBe("exports.handler = 'kept';");
    expect(calls).toEqual([]);
  });

  it("serializes again over a kept file it cannot read", async () => {
    const type = freshType();
    mkdirSync(path.join(dir, ".providers"));
    writeFileSync(keptPath(env, type)!, "{ half a fi");
    serializeAs("exports.handler = 'fresh';");
    expect((await serializedProvider({}, type, env)).text).toBe(packedProvider("exports.handler = 'fresh';"));
    expect(calls).toHaveLength(1);
  });

  it("never writes a provider whose code holds a secret, and keeps nothing without a compile", async () => {
    const secretType = freshType();
    serializeAs("exports.handler = 's3cret';", true);
    expect(await serializedProvider({}, secretType, env)).toEqual({ text: packedProvider("exports.handler = 's3cret';"), containsSecrets: true });
    expect(existsSync(keptPath(env, secretType)!)).toBe(false);

    serializeAs("exports.handler = 2;");
    expect((await serializedProvider({}, freshType(), {})).text).toBe(packedProvider("exports.handler = 2;"));
    expect(existsSync(path.join(dir, ".providers"))).toBe(false);
  });
});

describe("packedProvider", () => {
  it("is a module that the SDK's dynamic provider loads as the code itself, a fraction of its size", () => {
    // How the SDK's dynamic provider loads a resource's __provider.
    const requireFromString = createRequire(require.resolve("@pulumi/pulumi/cmd/dynamic-provider"))("require-from-string") as (code: string) => {
      handler(): { hash: string; size: number };
    };
    const code = `const crypto = require("crypto");
      const text = ${JSON.stringify("serialized closures repeat themselves; ".repeat(2000))};
      exports.handler = () => ({ hash: crypto.createHash("sha256").update(text).digest("hex"), size: text.length });`;
    const packed = packedProvider(code);
    expect(packed.length).toBeLessThan(code.length / 10);
    expect(requireFromString(packed).handler()).toEqual(requireFromString(code).handler());
    expect(requireFromString(packed).handler().size).toBe(78_000);
  });
});
