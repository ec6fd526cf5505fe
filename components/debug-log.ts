// The Pulumi Node.js SDK (3.270) logs every RegisterResource response at debug level, outputs and
// all, and a secret output travels there in plain text inside its secret wrapper. `pulumi up`'s
// plain display hides debug messages, but `pulumi up --json` streams every engine event, debug
// ones included: the console password and the VMs' private keys would be printed (measured).
// Until the SDK stops doing that, the program withholds any debug message that carries a secret.
//
// Those dumps are also big: every response holds each provider's serialized code (50-80 KB), and
// the engine writes every message into its own log file (compressed, encrypted) and streams it to
// event logs, on the path of every registration: a no-op `up` of 2 VMs sent ~1.4 MB of them. So a
// debug message is cut after MAX_DEBUG_CHARS, which keeps what it says about the call.

/** The wire signature that marks a secret value (`specialSecretSig` in the SDK's rpc.ts). */
export const SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270";

export const WITHHELD = "(a debug message of the Pulumi SDK, withheld by vm-cluster: it carries secret values)";

export const MAX_DEBUG_CHARS = 2000;

/** What the program passes on of one of the SDK's debug messages. */
export function debugMessage(msg: string): string {
  if (msg.includes(SECRET_SIGNATURE)) return WITHHELD;
  if (msg.length <= MAX_DEBUG_CHARS) return msg;
  return `${msg.slice(0, MAX_DEBUG_CHARS)}… (${msg.length - MAX_DEBUG_CHARS} more characters left out by vm-cluster)`;
}

type DebugLog = (msg: string, ...rest: unknown[]) => Promise<void>;

/** Replaces the SDK's log.debug (the one its runtime calls) by debugMessage's filter, once per process. */
export function withholdSecretsFromDebugLog(log: { debug: DebugLog } = require("@pulumi/pulumi/log")): void {
  const installed = Symbol.for("vm-cluster.debug-log-filter");
  const marked = log as unknown as Record<symbol, boolean>;
  if (marked[installed]) return;
  const debug = log.debug;
  log.debug = (msg, ...rest) => debug(typeof msg === "string" ? debugMessage(msg) : msg, ...rest);
  marked[installed] = true;
}
