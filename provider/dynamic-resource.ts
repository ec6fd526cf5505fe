// pulumi.dynamic.Resource, with its provider's serialized code kept on disk between runs. The SDK
// serializes each provider's closure once per program run (every resource carries it as
// `__provider`), and for our providers that took ~3 s of each run on our machines: the closure
// serializer inspects every function the provider reaches. The code is the same for every run of
// the same compiled program, so the language host's compile folder (VM_CLUSTER_COMPILED_PROGRAM)
// keeps each provider's text, written by the first run that serialized it. Resources and their type
// tokens are exactly what pulumi.dynamic.Resource makes; the text is the SDK's, packed (packedProvider).
import { createRequire } from "node:module";
import * as fs from "node:fs";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import * as pulumi from "./pulumi";

/** Set by our language host when it runs the program compiled: that compile's folder. */
export const COMPILED_PROGRAM_ENV = "VM_CLUSTER_COMPILED_PROGRAM";

interface Serialized {
  text: string;
  containsSecrets: boolean;
}
type SerializeFunction = (fn: () => unknown, opts: { allowSecrets: boolean }) => Promise<Serialized>;

// The SDK's closure serializer, loaded on first use as the SDK does (it is slow to load); through
// require, so tests that replace it under mocks replace it here too.
const requireCjs = createRequire(__filename);
const serializer = () => requireCjs("@pulumi/pulumi/runtime/closure/serializeClosure") as { serializeFunction: SerializeFunction };

/** One text per provider and program run, as the SDK caches it. */
const inRun = new Map<string, Promise<Serialized>>();

/**
 * The serialized code as `__provider` carries it: gzip-compressed (~75 KB of JavaScript becomes ~20 KB)
 * in a one-line module that unpacks it and compiles it in its place, so the engine's dynamic provider
 * loads it as before. Every resource carries its provider's code in its inputs and outputs, so every
 * check, diff, engine event and engine log line of every resource paid for its size, on every run.
 */
export function packedProvider(text: string): string {
  const packed = gzipSync(text, { level: 9 }).toString("base64");
  return `module._compile(require("zlib").gunzipSync(Buffer.from(${JSON.stringify(packed)}, "base64")).toString(), module.filename);`;
}

/** Where the serialized code of the provider of resources of `type` is kept, if the program runs compiled. */
export function keptPath(env: NodeJS.ProcessEnv, type: string): string | undefined {
  const dir = env[COMPILED_PROGRAM_ENV];
  return dir ? path.join(dir, ".providers", `${type.replace(/[^\w.-]/g, "_")}.json`) : undefined;
}

/** The provider's serialized code, packed: kept from an earlier run of this compile, else serialized (and kept). */
export function serializedProvider(provider: object, type: string, env: NodeJS.ProcessEnv = process.env): Promise<Serialized> {
  let text = inRun.get(type);
  if (text === undefined) {
    text = keptOrSerialized(provider, keptPath(env, type));
    inRun.set(type, text);
  }
  return text;
}

async function keptOrSerialized(provider: object, file: string | undefined): Promise<Serialized> {
  if (file !== undefined) {
    try {
      const kept = JSON.parse(fs.readFileSync(file, "utf8")) as Serialized;
      if (typeof kept.text === "string" && kept.containsSecrets === false) return kept;
    } catch {
      // Not kept yet, or unreadable: serialize it again.
    }
  }
  const plain = await serializer().serializeFunction(() => provider, { allowSecrets: true });
  const serialized = { text: packedProvider(plain.text), containsSecrets: plain.containsSecrets };
  // A provider whose code holds a secret is never written to disk.
  if (file !== undefined && !serialized.containsSecrets) {
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const staging = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(staging, JSON.stringify(serialized));
      fs.renameSync(staging, file);
    } catch {
      // Keeping it only saves time next run.
    }
  }
  return serialized;
}

/** A resource whose CRUD operations are `provider`'s, run by the engine's Node.js dynamic provider. */
export class DynamicResource extends pulumi.CustomResource {
  constructor(
    provider: pulumi.dynamic.ResourceProvider,
    name: string,
    props: pulumi.Inputs,
    opts: pulumi.CustomResourceOptions | undefined,
    module: string,
    type: string,
  ) {
    if (props.__provider !== undefined) throw new Error("A dynamic resource must not define the __provider key");
    const code = serializedProvider(provider, `${module}:${type}`).then((s) => (s.containsSecrets ? pulumi.secret(s.text) : s.text));
    super(`pulumi-nodejs:dynamic/${module}:${type}`, name, { ...props, __provider: pulumi.output(code) }, opts);
  }
}
