// How to reach the VM host, and the connection for a spec. Providers receive the spec as plain
// inputs (secret parts as secrets) and connect inside each call: nothing live is captured.
import { LocalConnection, type LocalConnectionSpec } from "./local-connection";
import { SshConnection, type SshConnectionSpec } from "./ssh-connection";
import type { HostConnection } from "./command";
import { guardProviderProcess } from "./process-guard";

export * from "./command";
export { LocalConnection, type LocalConnectionSpec } from "./local-connection";
export { SshConnection, type SshConnectionSpec } from "./ssh-connection";

export type ConnectionSpec = LocalConnectionSpec | SshConnectionSpec;

export function connect(spec: ConnectionSpec): HostConnection {
  // In the provider process: stop with the engine, never outlive it as an orphan.
  guardProviderProcess();
  switch (spec.type) {
    case "local":
      return new LocalConnection(spec);
    case "ssh":
      return new SshConnection(spec);
    default: {
      const never: never = spec;
      throw new Error(`unknown host connection type ${String((never as { type: unknown }).type)}`);
    }
  }
}

/** Which host (and network namespace) a connection reaches. */
export function hostIdentity(spec: ConnectionSpec): string {
  switch (spec.type) {
    case "local":
      return `local/${spec.netns ?? ""}`;
    case "ssh":
      return `ssh/${spec.host}:${spec.port ?? 22}/${spec.netns ?? ""}`;
    default: {
      const never: never = spec;
      throw new Error(`unknown host connection type ${String((never as { type: unknown }).type)}`);
    }
  }
}
