// Entry point: raw `vm-cluster:` stack config in, a ClusterModel or every problem out.
import { z } from "zod";
import type { ClusterModel } from "./cluster-model";
import type { ConfigIo } from "./config-io";
import { crossCheck } from "./cross-checks";
import { resolveModel } from "./resolve";
import { configSectionsSchema } from "./schema";

export const CONFIG_NAMESPACE = "vm-cluster";

export type ConfigResult = { ok: true; model: ClusterModel } | { ok: false; problems: string[] };

/** Where the values came from, for naming a key in a problem. */
export interface ConfigSource {
  /** Put before a key path: `vm-cluster:` for the stack config, `args.` for a program's ClusterArgs. */
  readonly keyPrefix: string;
  /** The whole of it, for a problem on no one key. */
  readonly name: string;
  /** Where a missing top-level key is set, if anywhere but the args themselves. */
  readonly setIn?: string;
}

export const STACK_CONFIG: ConfigSource = { keyPrefix: `${CONFIG_NAMESPACE}:`, name: `${CONFIG_NAMESPACE} config`, setIn: "Pulumi.<stack>.yaml" };

/** The whole schema: sections, then the rules across them on every section that parsed cleanly (so one run
 * reports every problem), then the resolved ClusterModel. */
function clusterConfigSchema(io: ConfigIo) {
  return configSectionsSchema(io)
    .superRefine(
      (config, ctx) => {
        // A value is usable when no issue sits on it, inside it or on a value containing it.
        // Unknown keys are the exception: they leave the known ones intact.
        const broken = ctx.issues.filter((issue) => issue.code !== "unrecognized_keys").map((issue) => issue.path ?? []);
        const clean = (...path: (string | number)[]) => !broken.some((issuePath) => issuePath.slice(0, path.length).every((key, i) => key === path[i]));
        for (const problem of crossCheck(config, clean)) {
          ctx.addIssue({
            code: "custom",
            path: [...problem.path],
            message: problem.message,
            ...(problem.explainsVmAddressesFrom !== undefined && { params: { explainsVmAddressesFrom: problem.explainsVmAddressesFrom } }),
          });
        }
      },
      { when: () => true },
    )
    .transform(resolveModel);
}

/**
 * Validates the stack config of namespace `vm-cluster` (keys without the prefix; structured
 * values as parsed JSON, scalars possibly as strings), or a program's ClusterArgs, which have the
 * same keys. Each problem names its key, as `source` names keys, and the fix.
 */
export function parseClusterConfig(raw: Record<string, unknown>, io: ConfigIo, source: ConfigSource = STACK_CONFIG): ConfigResult {
  const result = clusterConfigSchema(io).safeParse(raw, { error: (issue) => describeIssue(issue, source) });
  if (result.success) return { ok: true, model: result.data };
  return { ok: false, problems: withoutExplained(result.error.issues).flatMap((issue) => formatIssue(issue, source)) };
}

/** One "too many VMs" line says it all: the address problems of the VMs past the end are its echo. */
function withoutExplained(issues: z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  const from = issues.map((issue) => (issue.code === "custom" ? issue.params?.explainsVmAddressesFrom : undefined)).find((n) => typeof n === "number");
  if (from === undefined) return issues;
  return issues.filter(
    (issue) => !(issue.path.length === 3 && issue.path[0] === "vms" && typeof issue.path[1] === "number" && issue.path[1] >= from && issue.path[2] === "ip"),
  );
}

/** `vm-cluster:vms[2].ip` for ["vms", 2, "ip"]. */
function keyPath(path: readonly PropertyKey[], source: ConfigSource): string {
  const tail = path.map((key, i) => (typeof key === "number" ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`)).join("");
  return `${source.keyPrefix}${tail}`;
}

// zod reports all unknown keys of an object in one issue; each gets its own line here.
function formatIssue(issue: z.core.$ZodIssue, source: ConfigSource): string[] {
  const keys = issue.code === "unrecognized_keys" ? issue.keys.map((key) => [...issue.path, key]) : [issue.path];
  return keys.map((path) => `${path.length === 0 ? source.name : keyPath(path, source)}: ${issue.message}`);
}

const EXPECTED: Readonly<Record<string, string>> = {
  string: "a string",
  number: "a number",
  boolean: "true or false",
  object: "a mapping of keys to values",
  record: "a mapping of names to values",
  array: "a list",
};

// Messages for zod's built-in checks; ours carry their own.
function describeIssue(issue: z.core.$ZodRawIssue, source: ConfigSource): string | undefined {
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return issue.path?.length === 1 && source.setIn !== undefined ? `is required; set it in ${source.setIn}` : "is required";
      return `expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${JSON.stringify(issue.input)}`;
    case "invalid_value":
      return `${JSON.stringify(issue.input)} is not allowed; use ${issue.values.map((v) => JSON.stringify(v)).join(" or ")}`;
    case "invalid_key":
      // A mapping's key (a class or group name) that its own check refused: that check's words.
      return issue.issues.map((inner) => inner.message).join("; ");
    default:
      return undefined;
  }
}
