// The edge: the stack's `vm-cluster:` config, validated once into a ClusterModel. Every problem is
// reported at once, before any resource is registered, so a bad config changes nothing on the host.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_NAMESPACE, parseClusterConfig, type ClusterModel, type ConfigIo } from "../model";

const defaultIo: ConfigIo = { readFile: (path) => readFileSync(path, "utf8"), homeDir: homedir() };

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
  const result = parseClusterConfig(raw, io);
  if (!result.ok) {
    // RunError: Pulumi shows the message alone, without a stack trace of ours.
    throw new pulumi.RunError(
      `the stack config has ${result.problems.length} problem(s); nothing was changed:\n` + result.problems.map((p) => `  - ${p}`).join("\n"),
    );
  }
  return result.model;
}

/**
 * Warnings about how the config is kept, for values that are valid. A private key written as text
 * (not a path) in the stack file is readable by anyone who has the file, unless it was set with
 * `--secret`; `secretKeys` are the config keys the engine says hold a secret (for a structured
 * value, the top-level key).
 */
export function configWarnings(allConfig: Record<string, string>, secretKeys: readonly string[], stack: string): string[] {
  const key = `${CONFIG_NAMESPACE}:host`;
  const host = configValue(allConfig[key] ?? "");
  const privateKey = typeof host === "object" && host !== null ? (host as Record<string, unknown>).privateKey : undefined;
  if (typeof privateKey !== "string" || !privateKey.includes("-----BEGIN") || secretKeys.includes(key)) return [];
  return [
    `${key}.privateKey holds the key itself in plain text in Pulumi.${stack}.yaml, where anyone who can read that file has it: ` +
      `encrypt it with \`pulumi config set --secret --path 'vm-cluster:host.privateKey' -- "$(cat ~/.ssh/<key>)"\`, or give the key's path instead`,
  ];
}
