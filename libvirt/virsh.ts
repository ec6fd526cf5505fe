// virsh over a host connection: the one way our providers talk to libvirt.
import { isDeepStrictEqual } from "node:util";
import { commandError, connect, hostIdentity, isCommandError, type CommandResult, type ConnectionSpec, type RunOptions } from "../transport/connection";
import { withHostFile } from "../transport/files";

/** Where libvirt is: the host connection and the libvirt URI on that host. */
export interface LibvirtTarget {
  connection: ConnectionSpec;
  /** Default `qemu:///system`. */
  uri?: string;
}

export const DEFAULT_URI = "qemu:///system";

/**
 * How a libvirt object's target changed. `moved`: another libvirt (host, network namespace or URI),
 * where this object is not, so it is replaced (made there, removed here); `reach`: the same libvirt
 * reached another way (sudo, SSH user or key), which changes only the state.
 */
export function targetChange(olds: LibvirtTarget, news: LibvirtTarget): "same" | "reach" | "moved" {
  // A target not known yet (preview of a computed value) may be another host.
  const where = (t: LibvirtTarget) =>
    typeof t?.connection === "object" && t.connection !== null ? `${hostIdentity(t.connection)} ${t.uri ?? DEFAULT_URI}` : "unknown";
  if (where(olds) !== where(news)) return "moved";
  return isDeepStrictEqual(olds, news) ? "same" : "reach";
}

// virsh's words when it reaches no libvirt daemon at all (the daemon stopped, a wrong socket).
const unreachable = /failed to connect to the hypervisor/i;

export async function virsh(t: LibvirtTarget, args: string[], opts?: RunOptions): Promise<CommandResult> {
  const conn = connect(t.connection);
  const uri = t.uri ?? DEFAULT_URI;
  try {
    return await conn.run(["virsh", "-q", "-c", uri, ...args], opts);
  } catch (err) {
    if (isCommandError(err) && unreachable.test(err.stderr)) {
      const why = err.stderr
        .trim()
        .split("\n")
        .map((l) => l.replace(/^error:\s*/, ""))
        .join(": ");
      const stderr = `libvirt is not reachable at ${uri} on ${conn.description} (${why}): start libvirtd (or virtqemud) there, then run \`pulumi up\` again`;
      throw commandError(err.argv, err.exitCode, stderr, conn.description);
    }
    throw err;
  }
}

export type ObjectKind = "pool" | "net" | "dom" | "vol";

const infoCommand: Record<ObjectKind, string> = { pool: "pool-info", net: "net-info", dom: "dominfo", vol: "vol-info" };
// libvirt's own words for "no such object", per kind (virErrorNumber NO_STORAGE_POOL, NO_NETWORK,
// NO_DOMAIN, NO_STORAGE_VOL). For domains, virsh 9 prints only its own "failed to get domain".
const notFound =
  /(no storage pool with matching|Network not found|no network with matching|Domain not found|no domain with matching|failed to get domain '|Storage volume not found|no storage vol with matching)/i;

export function isNotFound(err: unknown): boolean {
  return isCommandError(err) && notFound.test(err.stderr);
}

/** Runs virsh and maps "no such object" to undefined; any other failure is an error. */
export async function virshIfExists(t: LibvirtTarget, args: string[], opts?: RunOptions): Promise<string | undefined> {
  try {
    return (await virsh(t, args, opts)).stdout;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export async function exists(t: LibvirtTarget, kind: ObjectKind, name: string, pool?: string): Promise<boolean> {
  const args = kind === "vol" ? [infoCommand.vol, "--pool", pool ?? "", name] : [infoCommand[kind], name];
  return (await virshIfExists(t, args)) !== undefined;
}

/** `virsh pool-define` / `net-define` / `define` / `vol-create <pool>` with the XML from a file. */
export async function defineXml(t: LibvirtTarget, command: string[], xml: string): Promise<void> {
  await withHostFile(t.connection, xml, (file) => virsh(t, [...command, file]));
}

/** `virsh *-info` output as a map: "Name:  x" lines. */
export function parseInfo(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split("\n")) {
    const m = /^([^:]+):\s*(.*)$/.exec(line.trim());
    if (m) out[m[1].trim()] = m[2].trim();
  }
  return out;
}

/** The error for a name that is taken by something this stack does not own. */
export function nameTakenError(kind: string, name: string, removeHint: string): Error {
  return new Error(
    `a libvirt ${kind} named "${name}" already exists and this stack did not create it; ` +
      `vm-cluster never takes over objects it does not own. Remove it (${removeHint}) or choose another cluster name.`,
  );
}
