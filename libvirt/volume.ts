// What every volume provider (base image, disk, seed) does the same way: find a volume, decide
// whether a volume of the same name may be taken over, and delete idempotently.
//
// Volumes carry no owner marker of their own (a qcow2 or ISO file has no libvirt <metadata>).
// Their proof is the pool: a volume is taken over only when its pool carries the UUID derived from
// this stack (see pool.ts; a pool made by hand never has it) and its name is the one this stack
// derives from the cluster. Even then each provider checks the content before it keeps a volume.
import { poolOwnedBy } from "./pool";
import { leftAloneWarning } from "../provider/warning";
import { nameTakenError, virsh, virshIfExists, type LibvirtTarget } from "./virsh";
import type { Owner } from "./xml";

/** The volume's path on the host, or undefined when the pool has no such volume. */
export async function volumePath(t: LibvirtTarget, pool: string, name: string): Promise<string | undefined> {
  return (await virshIfExists(t, ["vol-path", "--pool", pool, name]))?.trim();
}

/**
 * For create: undefined when the name is free; the volume's path when a volume of that name is in
 * this stack's own pool (an interrupted create left it: the caller checks its content); otherwise
 * the name is someone else's, and create fails.
 */
export async function leftoverVolume(t: LibvirtTarget, pool: string, name: string, owner: Owner | undefined): Promise<string | undefined> {
  const path = await volumePath(t, pool, name);
  if (path === undefined) return undefined;
  if (await poolOwnedBy(t, pool, owner)) return path;
  throw nameTakenError("volume", name, `virsh vol-delete --pool ${pool} ${name}`);
}

/** Deletes the volume; one that is already gone (or whose pool is) is fine. */
export async function deleteVolume(t: LibvirtTarget, pool: string, name: string): Promise<void> {
  if ((await volumePath(t, pool, name)) !== undefined) await virsh(t, ["vol-delete", "--pool", pool, name]);
}

/**
 * Delete's rule, the same proof as create's: a volume goes only from this stack's own pool. A pool
 * of that name made by hand after ours was removed keeps its volume (with a warning). State from
 * before pools carried the owner UUID has no owner: its volumes are deleted by name, as then.
 */
export async function deleteOwnedVolume(t: LibvirtTarget, pool: string, name: string, owner: Owner | undefined): Promise<void> {
  if ((await volumePath(t, pool, name)) === undefined) return;
  if (owner !== undefined && !(await poolOwnedBy(t, pool, owner))) {
    leftAloneWarning(`volume ${name} in storage pool ${pool}`, `virsh vol-delete --pool ${pool} ${name}`);
    return;
  }
  await virsh(t, ["vol-delete", "--pool", pool, name]);
}
