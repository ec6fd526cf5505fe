// What every volume provider (base image, disk, seed) does the same way: find a volume, refuse a
// name someone else holds, and delete idempotently.
import { nameTakenError, virsh, virshIfExists, type LibvirtTarget } from "./virsh";

/** The volume's path on the host, or undefined when the pool has no such volume. */
export async function volumePath(t: LibvirtTarget, pool: string, name: string): Promise<string | undefined> {
  return (await virshIfExists(t, ["vol-path", "--pool", pool, name]))?.trim();
}

/** Create refuses to take over a volume the stack does not know. */
export async function assertVolumeFree(t: LibvirtTarget, pool: string, name: string): Promise<void> {
  if ((await volumePath(t, pool, name)) !== undefined) {
    throw nameTakenError("volume", name, `virsh vol-delete --pool ${pool} ${name}`);
  }
}

/** Deletes the volume; one that is already gone is fine. */
export async function deleteVolume(t: LibvirtTarget, pool: string, name: string): Promise<void> {
  if ((await volumePath(t, pool, name)) !== undefined) await virsh(t, ["vol-delete", "--pool", pool, name]);
}
