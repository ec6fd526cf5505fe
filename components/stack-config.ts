// The edge: the stack's `vm-cluster:` config (or a program's ClusterArgs, the same keys), validated
// once into a ClusterModel. Every problem is reported at once, before any resource is registered,
// so a bad config changes nothing on the host.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import * as pulumi from "../provider/pulumi";
import { CONFIG_NAMESPACE, parseClusterConfig, STACK_CONFIG, type ClusterModel, type ConfigIo, type ConfigSource } from "../model";

/** Files (`file:` keys, `~/`) are read on the machine that runs Pulumi. */
export const defaultIo: ConfigIo = { readFile: (path) => readFileSync(path, "utf8"), homeDir: homedir() };

/** The model of `raw`, or a RunError that lists every problem of `what` (the engine shows it alone, without our stack trace). */
export function checkedModel(raw: Record<string, unknown>, io: ConfigIo, source: ConfigSource, what: string): ClusterModel {
  const result = parseClusterConfig(raw, io, source);
  if (result.ok) return result.model;
  throw new pulumi.RunError(`${what} has ${result.problems.length} problem(s); nothing was changed:\n` + result.problems.map((p) => `  - ${p}`).join("\n"));
}

/**
 * Structured values come as JSON text. Text that only looks like JSON (`cluster: "[anemoi"`) stays
 * text, so validation names its key among all the other problems instead of a bare SyntaxError.
 */
function configValue(text: string): unknown {
  if (!/^\s*[[{]/.test(text)) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * `allConfig` is what `pulumi.runtime.allConfig()` returns: `namespace:key` → string, with
 * structured values as JSON text. Keys of other namespaces are not ours to judge.
 */
export function loadClusterModel(allConfig: Record<string, string>, io: ConfigIo = defaultIo): ClusterModel {
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(allConfig)) {
    if (!key.startsWith(`${CONFIG_NAMESPACE}:`)) continue;
    raw[key.slice(CONFIG_NAMESPACE.length + 1)] = configValue(value);
  }
  return checkedModel(raw, io, STACK_CONFIG, "the stack config");
}

/**
 * Warnings about how the config is kept, for values that are valid. A private key written as text
 * (not a path) in the stack file is readable by anyone who has the file, unless it was set with
 * `--secret`; `secretKeys` are the config keys the engine says hold a secret (for a structured
 * value, the top-level key).
 */
export function configWarnings(allConfig: Record<string, string>, secretKeys: readonly string[], stack: string): string[] {
  const object = (value: unknown) => (typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {});
  const hostsKey = `${CONFIG_NAMESPACE}:hosts`;
  // The host's key, and each entry of hosts' (a structured value is secret as a whole, by its top-level key).
  const keys: [string, string, unknown][] = [
    [`${CONFIG_NAMESPACE}:host`, `${CONFIG_NAMESPACE}:host.privateKey`, object(configValue(allConfig[`${CONFIG_NAMESPACE}:host`] ?? "")).privateKey],
    ...Object.entries(object(configValue(allConfig[hostsKey] ?? ""))).map(([name, entry]): [string, string, unknown] => [
      hostsKey,
      `${hostsKey}.${name}.privateKey`,
      object(entry).privateKey,
    ]),
  ];
  return keys
    .filter(([top, , privateKey]) => typeof privateKey === "string" && privateKey.includes("-----BEGIN") && !secretKeys.includes(top))
    .map(
      ([, key]) =>
        `${key} holds the key itself in plain text in Pulumi.${stack}.yaml, where anyone who can read that file has it: ` +
        `encrypt it with \`pulumi config set --secret --path '${key}' -- "$(cat ~/.ssh/<key>)"\`, or give the key's path instead`,
    );
}
