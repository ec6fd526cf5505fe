// The Pulumi Node.js SDK (3.270) logs every RegisterResource response at debug level, outputs and
// all, and a secret output travels there in plain text inside its secret wrapper. `pulumi up`'s
// plain display hides debug messages, but `pulumi up --json` streams every engine event, debug
// ones included: the console password and the VMs' private keys would be printed (measured).
// Until the SDK stops doing that, the program withholds any debug message that carries a secret.

/** The wire signature that marks a secret value (`specialSecretSig` in the SDK's rpc.ts). */
export const SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270";

export const WITHHELD = "(a debug message of the Pulumi SDK, withheld by vm-cluster: it carries secret values)";

type DebugLog = (msg: string, ...rest: unknown[]) => Promise<void>;

/** Replaces the SDK's log.debug (the one its runtime calls) by a filter, once per process. */
export function withholdSecretsFromDebugLog(log: { debug: DebugLog } = require("@pulumi/pulumi/log")): void {
  const installed = Symbol.for("vm-cluster.debug-log-filter");
  const marked = log as unknown as Record<symbol, boolean>;
  if (marked[installed]) return;
  const debug = log.debug;
  log.debug = (msg, ...rest) => debug(typeof msg === "string" && msg.includes(SECRET_SIGNATURE) ? WITHHELD : msg, ...rest);
  marked[installed] = true;
}
