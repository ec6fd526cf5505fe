// Commands as root in a guest, over SSH from its VM host (where the cluster network is reachable),
// with the stack's provisioner key and the VM's pinned host key: strict checking, no trust on first use.
import { connect, shellQuote, type CommandResult, type RunOptions } from "../transport/connection";
import { withHostFile } from "../transport/files";
import type { LibvirtTarget } from "../libvirt/virsh";

/** How to reach one guest. */
export interface GuestAccess {
  target: LibvirtTarget;
  ip: string;
  /** The VM's ed25519 host public key line. */
  hostPublicKey: string;
  /** Authorized for root in the guest; a secret. */
  provisionerPrivateKey: string;
}

/** Runs one command line in the guest; ssh's own failure to connect is exit code 255. */
export type GuestRun = (command: string[], opts?: RunOptions) => Promise<CommandResult>;

/**
 * The ssh argv that runs `command` as root in the guest. The remote shell parses one string, so the
 * words are quoted; ServerAlive options end a session whose guest stopped answering.
 */
export function guestSshArgv(ip: string, keyFile: string, knownHostsFile: string, command: string[]): string[] {
  return [
    "ssh",
    "-i",
    keyFile,
    "-o",
    "BatchMode=yes",
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    `UserKnownHostsFile=${knownHostsFile}`,
    "-o",
    "ConnectTimeout=5",
    "-o",
    "ServerAliveInterval=5",
    "-o",
    "ServerAliveCountMax=6",
    `root@${ip}`,
    "--",
    shellQuote(command),
  ];
}

/** Lends `use` a runner for the guest; the key and known_hosts files on the host last as long as it. */
export async function withGuest<T>(g: GuestAccess, use: (run: GuestRun) => Promise<T>): Promise<T> {
  const conn = connect(g.target.connection);
  return withHostFile(g.target.connection, g.provisionerPrivateKey.trim() + "\n", (keyFile) =>
    withHostFile(g.target.connection, `${g.ip} ${g.hostPublicKey}\n`, (knownHosts) =>
      use((command, opts) => conn.run(guestSshArgv(g.ip, keyFile, knownHosts, command), opts)),
    ),
  );
}
