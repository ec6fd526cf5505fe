// A VM's disk: a qcow2 overlay on the base image (no full copy), with the VM's own capacity.
// It grows in place (vol-resize; growpart in the guest grows the file system); it never shrinks.
import * as pulumi from "@pulumi/pulumi";
import { defineXml, virsh, virshIfExists, type LibvirtTarget } from "./virsh";
import { assertVolumeFree, deleteVolume, volumePath } from "./volume";
import { buildVolumeXml, parseVolumeXml } from "./xml";

export interface DiskInputs {
  target: LibvirtTarget;
  pool: string;
  name: string;
  capacityBytes: number;
  /** The base image's path on the host. */
  backingPath: string;
}

export interface DiskState extends DiskInputs {
  path: string;
}

export interface DiskArgs {
  target: pulumi.Input<LibvirtTarget>;
  pool: pulumi.Input<string>;
  name: pulumi.Input<string>;
  capacityBytes: pulumi.Input<number>;
  backingPath: pulumi.Input<string>;
}

async function readDisk(t: LibvirtTarget, pool: string, name: string) {
  const xml = await virshIfExists(t, ["vol-dumpxml", "--pool", pool, name]);
  if (xml === undefined) return undefined;
  const vol = parseVolumeXml(xml);
  const path = (await virsh(t, ["vol-path", "--pool", pool, name])).stdout.trim();
  return { capacityBytes: vol.capacity, backingPath: vol.backingStore?.path ?? "", path };
}

export const diskProvider: pulumi.dynamic.ResourceProvider<DiskInputs, DiskState> = {
  async create(inputs) {
    const t = inputs.target;
    await assertVolumeFree(t, inputs.pool, inputs.name);
    const xml = buildVolumeXml({
      name: inputs.name,
      capacity: inputs.capacityBytes,
      target: { format: { type: "qcow2" } },
      backingStore: { path: inputs.backingPath, format: { type: "qcow2" } },
    });
    await defineXml(t, ["vol-create", inputs.pool], xml);
    const path = (await volumePath(t, inputs.pool, inputs.name))!;
    return { id: `${inputs.pool}/${inputs.name}`, outs: { ...inputs, path } };
  },

  async read(id, props) {
    const live = props && (await readDisk(props.target, props.pool, props.name));
    return live ? { id, props: { ...props, ...live } } : {};
  },

  async check(olds, news) {
    const shrinks = olds.capacityBytes !== undefined && news.capacityBytes < olds.capacityBytes;
    return {
      inputs: news,
      failures: shrinks
        ? [{ property: "capacityBytes", reason: `a disk never shrinks (${olds.capacityBytes} → ${news.capacityBytes} bytes): data would be lost; give a size of at least the current one` }]
        : [],
    };
  },

  async diff(_id, olds, news) {
    const replaces = (["pool", "name", "backingPath"] as const).filter((k) => olds[k] !== news[k]);
    return { changes: replaces.length > 0 || olds.capacityBytes !== news.capacityBytes, replaces, deleteBeforeReplace: true };
  },

  async update(_id, olds, news) {
    await virsh(news.target, ["vol-resize", "--pool", news.pool, news.name, String(news.capacityBytes)]);
    return { outs: { ...news, path: olds.path } };
  },

  async delete(_id, props) {
    await deleteVolume(props.target, props.pool, props.name);
  },
};

export class Disk extends pulumi.dynamic.Resource {
  declare readonly path: pulumi.Output<string>;

  constructor(name: string, args: DiskArgs, opts?: pulumi.CustomResourceOptions) {
    super(diskProvider, name, { ...args, path: undefined }, opts, "vm-cluster", "Disk");
  }
}
