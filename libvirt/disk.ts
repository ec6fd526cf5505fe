// A VM's disk: a qcow2 overlay on the base image (no full copy), with the VM's own capacity; or,
// without a base, a data disk: a sparse raw volume the guest gets unformatted. Either grows in
// place, under a running guest too (blockresize; the guest's root file system is grown over SSH by
// guest/guest-settings.ts); it never shrinks.
import { deleteFirst } from "../provider/delete-first";
import * as pulumi from "../provider/pulumi";
import { defineXml, virsh, virshIfExists, targetChange, type LibvirtTarget } from "./virsh";
import { deleteOwnedVolume, leftoverVolume, volumePath } from "./volume";
import { buildVolumeXml, parseVolumeXml, type Owner } from "./xml";
import { withClearErrors } from "../provider/clear-errors";
import { DynamicResource } from "../provider/dynamic-resource";

export interface DiskInputs {
  target: LibvirtTarget;
  pool: string;
  name: string;
  capacityBytes: number;
  /** The base image's path on the host; none for a data disk. */
  backingPath?: string;
  /** The config key that sets the size, for messages; the VM's disk keys when not given. */
  sizeKey?: string;
  /** The base image's virtual size: a smaller disk cuts off the guest's file system, so check refuses it. */
  minimumBytes?: number;
  /** The stack whose pool this is: an overlay an interrupted run left there is kept when it fits. */
  owner?: Owner;
  /** The domain that boots this disk: while it runs, qemu holds the image and grows it itself. */
  domain?: string;
  /**
   * The MAC the guest on this disk set its network up for at its first boot (cloud-init matches the
   * NIC by MAC): another MAC needs a fresh disk, so a change replaces the disk, and with it the VM.
   */
  guestMac?: string;
}

export interface DiskState extends DiskInputs {
  path: string;
  /** When create made it (none in state from before the key existed): its guest's first boot comes after. */
  createdAt?: string;
}

export interface DiskArgs {
  target: pulumi.Input<LibvirtTarget>;
  pool: pulumi.Input<string>;
  name: pulumi.Input<string>;
  capacityBytes: pulumi.Input<number>;
  backingPath?: pulumi.Input<string>;
  sizeKey?: pulumi.Input<string>;
  minimumBytes?: pulumi.Input<number | undefined>;
  owner?: pulumi.Input<Owner | undefined>;
  domain?: pulumi.Input<string>;
  guestMac?: pulumi.Input<string>;
}

async function readDisk(t: LibvirtTarget, pool: string, name: string) {
  const xml = await virshIfExists(t, ["vol-dumpxml", "--pool", pool, name]);
  if (xml === undefined) return undefined;
  const vol = parseVolumeXml(xml);
  const path = (await virsh(t, ["vol-path", "--pool", pool, name])).stdout.trim();
  return { capacityBytes: vol.capacity, path, ...(vol.backingStore !== undefined && { backingPath: vol.backingStore.path }) };
}

const GIB = 1024 ** 3;
/** Sizes as the config writes them: whole GiB as "3G", else bytes. */
export function formatSize(bytes: number): string {
  return bytes % GIB === 0 ? `${bytes / GIB}G` : `${bytes} bytes`;
}

/** Why a disk of `capacity` bytes cannot hold the base image, or undefined when it can (or is not known yet). */
export function tooSmall(capacity: unknown, minimum: unknown): string | undefined {
  if (typeof capacity !== "number" || typeof minimum !== "number" || capacity >= minimum) return undefined;
  const atLeast = formatSize(Math.ceil(minimum / GIB) * GIB);
  return (
    `the disk (${formatSize(capacity)}) is smaller than the base image's virtual size (${formatSize(minimum)}): ` +
    `the guest would not boot; set defaults.disk (or this VM's vms[].disk) to at least ${atLeast}`
  );
}

/**
 * Grows the volume to `bytes`. A running domain holds a write lock on its disk, so qemu-img (what
 * vol-resize runs) cannot open it; the running qemu resizes it instead, and the guest sees the new
 * size at once.
 */
async function growDisk(t: LibvirtTarget, d: { pool: string; name: string; domain?: string }, path: string, bytes: number): Promise<void> {
  const running = d.domain !== undefined && (await virshIfExists(t, ["domstate", d.domain]))?.trim() === "running";
  const attached = running && (await virsh(t, ["domblklist", d.domain!])).stdout.split("\n").some((line) => line.trim().split(/\s+/)[1] === path);
  if (attached) await virsh(t, ["blockresize", d.domain!, path, `${bytes}B`]);
  else await virsh(t, ["vol-resize", "--pool", d.pool, d.name, String(bytes)]);
}

/** An overlay left in our pool by an interrupted create: kept when it is ours to keep, grown when smaller. */
async function adoptDisk(t: LibvirtTarget, inputs: DiskInputs): Promise<void> {
  const live = (await readDisk(t, inputs.pool, inputs.name))!;
  const where = `disk volume ${inputs.name} in pool ${inputs.pool}, left by an interrupted run,`;
  const remove = `run \`pulumi destroy\` or remove it by hand (virsh vol-delete --pool ${inputs.pool} ${inputs.name})`;
  if (live.backingPath !== inputs.backingPath)
    throw new Error(`${where} is an overlay of ${live.backingPath ?? "nothing"}, not of ${inputs.backingPath ?? "nothing"}: ${remove}`);
  if (live.capacityBytes > inputs.capacityBytes) {
    throw new Error(
      `${where} is larger (${live.capacityBytes} bytes) than configured (${inputs.capacityBytes}); a disk never shrinks: configure at least its size, or ${remove}`,
    );
  }
  if (live.capacityBytes < inputs.capacityBytes) await growDisk(t, inputs, live.path, inputs.capacityBytes);
}

export const diskProvider: pulumi.dynamic.ResourceProvider<DiskInputs, DiskState> = withClearErrors<DiskInputs, DiskState>("disk", {
  async create(inputs) {
    const t = inputs.target;
    if ((await leftoverVolume(t, inputs.pool, inputs.name, inputs.owner)) !== undefined) {
      await adoptDisk(t, inputs);
      return {
        id: `${inputs.pool}/${inputs.name}`,
        outs: { ...inputs, path: (await volumePath(t, inputs.pool, inputs.name))!, createdAt: new Date().toISOString() },
      };
    }
    const xml = buildVolumeXml(
      inputs.backingPath === undefined
        ? { name: inputs.name, capacity: inputs.capacityBytes, allocation: 0, target: { format: { type: "raw" } } }
        : {
            name: inputs.name,
            capacity: inputs.capacityBytes,
            target: { format: { type: "qcow2" } },
            backingStore: { path: inputs.backingPath, format: { type: "qcow2" } },
          },
    );
    await defineXml(t, ["vol-create", inputs.pool], xml);
    const path = (await volumePath(t, inputs.pool, inputs.name))!;
    return { id: `${inputs.pool}/${inputs.name}`, outs: { ...inputs, path, createdAt: new Date().toISOString() } };
  },

  async read(id, props) {
    const live = props && (await readDisk(props.target, props.pool, props.name));
    // An overlay whose base was taken away by hand reads as based on nothing: a drift that replaces it.
    if (!live) return {};
    const backingPath = live.backingPath ?? (props.backingPath === undefined ? undefined : "");
    // No undefined values: the engine's wire format has no place for them.
    return { id, props: { ...props, ...live, ...(backingPath !== undefined && { backingPath }) } };
  },

  async check(olds, news) {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    if (olds.capacityBytes !== undefined && news.capacityBytes < olds.capacityBytes) {
      failures.push({
        property: "capacityBytes",
        reason: `a disk never shrinks (${formatSize(olds.capacityBytes)} → ${formatSize(news.capacityBytes)}): data would be lost; set ${news.sizeKey ?? "defaults.disk (or this VM's vms[].disk)"} to at least ${formatSize(olds.capacityBytes)}, or ${news.sizeKey === undefined ? "give the VM a new name to start over with a smaller disk" : "give the disk a new name to start over with a smaller one"}`,
      });
    }
    const small = tooSmall(news.capacityBytes, news.minimumBytes);
    if (small !== undefined) failures.push({ property: "capacityBytes", reason: small });
    return { inputs: news, failures };
  },

  async diff(_id, olds, news) {
    const replaces: string[] = (["pool", "name", "backingPath"] as const).filter((k) => olds[k] !== news[k]);
    // State from before the key existed does not know the MAC: nothing to compare, only to record
    // (an update that touches nothing), so the next change of MAC is seen.
    if (olds.guestMac !== undefined && olds.guestMac !== news.guestMac) replaces.push("guestMac");
    const recorded = (["guestMac", "domain"] as const).some((k) => olds[k] === undefined && news[k] !== undefined);
    const target = targetChange(olds.target, news.target);
    if (target === "moved") replaces.push("target");
    return { changes: replaces.length > 0 || olds.capacityBytes !== news.capacityBytes || recorded || target !== "same", replaces, deleteBeforeReplace: true };
  },

  async update(_id, olds, news) {
    if (news.capacityBytes > olds.capacityBytes) await growDisk(news.target, news, olds.path, news.capacityBytes);
    return { outs: { ...news, path: olds.path, ...(olds.createdAt !== undefined && { createdAt: olds.createdAt }) } };
  },

  async delete(_id, props) {
    await deleteOwnedVolume(props.target, props.pool, props.name, props.owner);
  },
});

export class Disk extends DynamicResource {
  declare readonly path: pulumi.Output<string>;
  declare readonly createdAt: pulumi.Output<string | undefined>;

  constructor(name: string, args: DiskArgs, opts?: pulumi.CustomResourceOptions) {
    super(diskProvider, name, { ...args, path: undefined, createdAt: undefined }, deleteFirst(opts), "vm-cluster", "Disk");
  }
}
