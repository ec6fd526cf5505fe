// Under Pulumi mocks no provider ever runs, yet every dynamic resource still serializes its
// provider. Vitest loads our modules as ES modules, which Pulumi's closure serializer cannot
// follow (it can under ts-node, where `pulumi up` runs them), so mocked tests skip that step.
import { createRequire } from "node:module";

const requireCjs = createRequire(__filename);
const closure = requireCjs("@pulumi/pulumi/runtime/closure/serializeClosure") as {
  serializeFunction: (fn: unknown, opts?: unknown) => Promise<{ text: string; containsSecrets: boolean }>;
};
closure.serializeFunction = async () => ({ text: "exports.handler = () => { throw new Error('mocked'); };", containsSecrets: false });
