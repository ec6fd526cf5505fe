// One VM's libvirt domain: defined with our owner marker and started, or kept shut down while its
// `running` input is false (a graceful shutdown when it changes to false; a start back). Changes of memory, vCPUs or
// devices redefine it and, when it runs, restart it with a graceful shutdown first; so does a new
// DHCP lease (address, prefix, gateway: the guest asks for it when it boots). Its `restart` input, filled in by check, says
// so in `pulumi preview`. Delete is a bounded graceful shutdown, then destroy and undefine.
// Nothing here waits without a bound.
import { deleteFirst } from "../provider/delete-first";
import * as pulumi from "../provider/pulumi";
import { connect } from "../transport/connection";
import { defineXml, nameTakenError, virsh, virshIfExists, targetChange, type LibvirtTarget } from "./virsh";
import { buildDiskXml, buildDomainXml, parseDomainXml, pcieRootPortCount, sameOwner, type DomainDisk, type DomainType, type Owner } from "./xml";
import { capacityFailures, hostCapacity } from "./host-capacity";
import { leftAloneWarning, providerWarning } from "../provider/warning";
import { undoThenThrow, withClearErrors } from "../provider/clear-errors";
import { isUnknown } from "../provider/unknown";
import type { InputsOf } from "../provider/args";
import { DynamicResource } from "../provider/dynamic-resource";

export interface DomainInputs {
  target: LibvirtTarget;
  name: string;
  type: DomainType;
  memoryMiB: number;
  vcpus: number;
  /** The id of the VM's disk volume: another disk means another VM. */
  disk?: string;
  /** The VM's disk (the overlay) and its read-only cloud-init seed, as host paths. */
  diskPath: string;
  seedPath: string;
  network: string;
  mac: string;
  /** Serial console log on the host, rewritten at each boot. */
  consoleLog: string;
  owner: Owner;
  /** How long a graceful shutdown may take before the domain is switched off. */
  shutdownTimeoutSeconds: number;
  /** What DHCP hands the guest, `<ip>/<prefix> via <gateway>`: it asks again when it boots. */
  lease?: string;
  /** Set by check: why this update restarts the VM (empty when it does not), for `pulumi preview`. */
  restart?: string;
  /** Raw volumes beside the VM's own disk; a change plugs them in or out of the running guest. */
  dataDisks?: DataDiskAttachment[];
  /** Whether it should run (state: whether it does); stopped, it keeps its definition and disks. */
  running?: boolean;
}

export interface DataDiskAttachment {
  /** The guest's /dev/disk/by-id/virtio-<serial>. */
  serial: string;
  path: string;
}

export interface DomainState extends DomainInputs {
  running: boolean;
  /** When this provider last started the domain: whatever waits for the guest must wait again when it changes. */
  startedAt: string;
}

export type DomainArgs = InputsOf<Omit<DomainInputs, "restart">>;

/** Where libvirt's QEMU driver (qemu:///system) writes its log of each domain. */
const QEMU_LOG_DIR = "/var/log/libvirt/qemu";

/** Properties that name the domain or what it is: a change replaces it. */
const IDENTITY = ["name", "type"] as const;
/** Properties a redefine (and restart) applies. */
const SETTINGS = ["memoryMiB", "vcpus", "diskPath", "seedPath", "network", "mac", "consoleLog"] as const;

/**
 * Whether the disk under the domain is another one. A disk made anew (a new image, a new MAC) means
 * a new VM: while the engine replaces the disk it asks with the disk's id unknown, so it removes the
 * domain before the disk under it. State from before the key existed has none: only that counts there.
 */
function otherDisk(olds: Partial<DomainInputs>, news: DomainInputs): boolean {
  // The engine asks with the old state's inputs, whose diskPath came from the disk then.
  return olds.disk === undefined ? isUnknown(news.disk) || isUnknown(news.diskPath) : olds.disk !== news.disk;
}
/** Whether the domain should run: state from before the key existed had every domain running. */
const shouldRun = (i: Partial<DomainInputs>) => i.running !== false;

/** Properties the guest takes up when it boots: a change restarts the domain. */
const AT_BOOT = ["lease"] as const;

/** Settings that differ; one the old state does not have yet (made before the key existed) does not count. */
function changedKeys<K extends keyof DomainInputs>(keys: readonly K[], olds: Partial<DomainInputs>, news: DomainInputs): K[] {
  return keys.filter((k) => olds[k] !== undefined && olds[k] !== news[k]);
}

/**
 * What `update` will restart the VM for, as preview shows it; empty when it will not. A value not
 * known yet (the seed's path while the seed is made anew) is left out: it comes back the same.
 */
export function restartReason(olds: Partial<DomainInputs>, news: DomainInputs): string {
  const [was, wanted] = [shouldRun(olds), shouldRun(news)];
  if (!wanted) return was ? `graceful shutdown of ${news.name}: running true → false` : "";
  if (!was) return `start of ${news.name}: running false → true`;
  const changed = changedKeys([...SETTINGS, ...AT_BOOT], olds, news).filter((k) => !isUnknown(news[k]));
  if (changed.length === 0) return "";
  return `graceful shutdown and start of ${news.name}: ${changed.map((k) => `${k} ${String(olds[k])} → ${String(news[k])}`).join(", ")}`;
}

/** virtio disks vda (the VM's disk) and vdb (its seed) come first; data disks follow. */
const DATA_DISK_DEVS = "cdefghijklmnopqrstuvwxyz".split("").map((letter) => `vd${letter}`);
/**
 * PCIe root ports per domain: enough for its own devices (disks, NIC, agent channel, balloon, rng,
 * USB) and the most data disks a VM may have, so each can be hot-plugged into a free one.
 */
export const PCIE_ROOT_PORTS = 16;

function dataDiskDevice(disk: DataDiskAttachment, dev: string): DomainDisk {
  return { driver: { type: "raw" }, source: { file: disk.path }, target: { dev }, readonly: false, serial: disk.serial };
}

const attachmentKey = (d: DataDiskAttachment) => `${d.serial}|${d.path}`;
const attachmentsKey = (disks: DataDiskAttachment[] | undefined) => (disks ?? []).map(attachmentKey).sort().join(",");

export function domainXml(i: DomainInputs, uuid?: string): string {
  return buildDomainXml({
    type: i.type,
    name: i.name,
    uuid,
    metadata: { owner: i.owner },
    memory: i.memoryMiB,
    vcpu: i.vcpus,
    devices: {
      disks: [
        { driver: { type: "qcow2" }, source: { file: i.diskPath }, target: { dev: "vda" }, readonly: false },
        { driver: { type: "raw" }, source: { file: i.seedPath }, target: { dev: "vdb" }, readonly: true },
        ...(i.dataDisks ?? []).map((disk, n) => dataDiskDevice(disk, DATA_DISK_DEVS[n]!)),
      ],
      pcieRootPorts: PCIE_ROOT_PORTS,
      interfaces: [{ mac: { address: i.mac }, source: { network: i.network } }],
      serials: [{ log: { file: i.consoleLog } }],
    },
  });
}

async function readDomain(t: LibvirtTarget, name: string) {
  const xml = await virshIfExists(t, ["dumpxml", "--inactive", name]);
  if (xml === undefined) return undefined;
  const d = parseDomainXml(xml);
  const state = (await virsh(t, ["domstate", name])).stdout.trim();
  const disk = (dev: string) => d.devices.disks.find((x) => x.target.dev === dev)?.source.file ?? "";
  return {
    uuid: d.uuid,
    owner: d.metadata?.owner,
    live: {
      type: d.type,
      memoryMiB: d.memory,
      vcpus: d.vcpu,
      diskPath: disk("vda"),
      seedPath: disk("vdb"),
      network: d.devices.interfaces[0]?.source.network ?? "",
      mac: d.devices.interfaces[0]?.mac.address ?? "",
      consoleLog: d.devices.serials[0]?.log.file ?? "",
      dataDisks: d.devices.disks.flatMap((x) =>
        x.serial !== undefined && !["vda", "vdb"].includes(x.target.dev) ? [{ serial: x.serial, path: x.source.file }] : [],
      ),
      running: state === "running",
    },
  };
}

/**
 * ACPI shutdown, waiting at most `seconds`; then the power is cut. An already stopped domain is fine.
 * A paused (virsh suspend), crashed or suspended-to-memory guest cannot act on ACPI: it is switched off
 * at once, since undefining it while its qemu runs would leave that qemu running, transient.
 */
async function stopDomain(t: LibvirtTarget, name: string, seconds: number): Promise<void> {
  const state = async () => (await virshIfExists(t, ["domstate", name]))?.trim();
  const off = (s: string | undefined) => s === undefined || s === "shut off";
  const now = await state();
  if (off(now)) return;
  if (now === "running" || now === "in shutdown") {
    await virsh(t, ["shutdown", name]).catch(() => undefined); // a guest without ACPI: destroy below
    const until = Date.now() + seconds * 1000;
    while (Date.now() < until) {
      if (off(await state())) return;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  await virsh(t, ["destroy", name], { okCodes: [0, 1] });
}

/**
 * Plugs data disks in and out to turn `current` into `wanted`: into the persistent definition, and
 * into the running guest too while it runs (virtio hot-plug; the guest's other disks stay as they are).
 */
async function plugDataDisks(t: LibvirtTarget, name: string, current: DataDiskAttachment[], wanted: DataDiskAttachment[]): Promise<void> {
  const have = new Set(current.map(attachmentKey));
  const want = new Set(wanted.map(attachmentKey));
  const scope = (await virshIfExists(t, ["domstate", name]))?.trim() === "running" ? ["--live", "--config"] : ["--config"];
  for (const disk of current.filter((d) => !want.has(attachmentKey(d)))) await virsh(t, ["detach-disk", name, disk.path, ...scope]);
  for (const disk of wanted.filter((d) => !have.has(attachmentKey(d)))) {
    // Each into a device name free both in the definition and in the running guest.
    const used = new Set<string>();
    for (const flags of [["--inactive"], []])
      for (const x of parseDomainXml((await virsh(t, ["dumpxml", ...flags, name])).stdout).devices.disks) used.add(x.target.dev);
    const dev = DATA_DISK_DEVS.find((d) => !used.has(d));
    if (dev === undefined) throw new Error(`domain ${name} has no virtio device name left for data disk ${disk.serial}`);
    await defineXml(t, ["attach-device", name, ...scope, "--file"], buildDiskXml(dataDiskDevice(disk, dev)));
  }
}

export const domainProvider: pulumi.dynamic.ResourceProvider<DomainInputs, DomainState> = withClearErrors<DomainInputs, DomainState>("domain", {
  async create(inputs) {
    const t = inputs.target;
    const existing = await readDomain(t, inputs.name);
    if (existing !== undefined && !sameOwner(existing.owner, inputs.owner)) {
      throw nameTakenError("domain", inputs.name, `virsh destroy ${inputs.name}; virsh undefine ${inputs.name}`);
    }
    // Ours from an interrupted run (the marker names this stack): redefine it to what is wanted.
    if (existing?.live.running) await stopDomain(t, inputs.name, inputs.shutdownTimeoutSeconds);
    await defineXml(t, ["define"], domainXml(inputs, existing?.uuid));
    if (!shouldRun(inputs)) return { id: inputs.name, outs: { ...inputs, running: false, startedAt: "" } };
    try {
      await virsh(t, ["start", inputs.name]);
    } catch (err) {
      await undoThenThrow(err, [
        { what: `undefining the domain that did not start (virsh undefine ${inputs.name} --nvram)`, run: () => virsh(t, ["undefine", inputs.name, "--nvram"]) },
      ]);
    }
    return { id: inputs.name, outs: { ...inputs, running: true, startedAt: new Date().toISOString() } };
  },

  async read(id, props) {
    const found = props && (await readDomain(props.target, id));
    return found ? { id, props: { ...props, ...found.live } } : {};
  },

  async check(olds, news) {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    // State from an older vm-cluster does not tie the disk to its MAC yet: its disk would stay and
    // its guest, set up for the old MAC, would find no network. One up without the change records it.
    if (olds.name !== undefined && olds.disk === undefined && olds.mac !== undefined && olds.mac !== news.mac) {
      failures.push({
        property: "mac",
        reason: `the MAC of ${news.name} changes (${olds.mac} → ${news.mac}) before this stack's state knows which disk was set up for it (state from an older vm-cluster): run \`pulumi up\` once with the old MAC, then change it`,
      });
    }
    // Asked of the host only when the sizes are new: a run that changes nothing costs no virsh call.
    const sized = olds.name === undefined || olds.memoryMiB !== news.memoryMiB || olds.vcpus !== news.vcpus || olds.type !== news.type;
    if (sized && ![news.target, news.type, news.memoryMiB, news.vcpus].some(isUnknown)) {
      const capacity = await hostCapacity(news.target, news.type);
      if (capacity !== undefined) failures.push(...capacityFailures(capacity, news.name, news.memoryMiB, news.vcpus));
    }
    const restart = olds.name === undefined ? "" : restartReason(olds, news);
    return { inputs: { ...news, restart }, failures };
  },

  async diff(_id, olds, news) {
    const replaces: string[] = IDENTITY.filter((k) => olds[k] !== news[k]);
    if (otherDisk(olds, news)) replaces.push("disk");
    const target = targetChange(olds.target, news.target);
    if (target === "moved") replaces.push("target");
    // A key the old state lacks is recorded (an update that touches nothing), never a restart.
    const recorded = (["disk", ...AT_BOOT] as const).some((k) => olds[k] === undefined && news[k] !== undefined);
    const plugged = attachmentsKey(olds.dataDisks) !== attachmentsKey(news.dataDisks);
    // State's `running` is what the host had at the last up or refresh: one started or stopped by hand is drift.
    const changed = changedKeys([...SETTINGS, ...AT_BOOT], olds, news).length > 0 || recorded || plugged || olds.running !== shouldRun(news);
    return { changes: replaces.length > 0 || changed || target !== "same", replaces, deleteBeforeReplace: true };
  },

  async update(id, olds, news) {
    const t = news.target;
    let redefine = changedKeys(SETTINGS, olds, news).length > 0;
    const plugging = attachmentsKey(olds.dataDisks) !== attachmentsKey(news.dataDisks);
    // A domain defined before data disks existed has no spare PCIe port to plug one into: it is
    // defined anew, with the ports and the disks, and restarted once.
    if (plugging && !redefine && pcieRootPortCount((await virsh(t, ["dumpxml", "--inactive", id])).stdout) < PCIE_ROOT_PORTS) {
      providerWarning(
        `${id} is restarted (graceful shutdown and start) to take its data disks: it was defined by an older vm-cluster, without spare PCIe ports to plug them into`,
      );
      redefine = true;
    }
    const reboot = changedKeys(AT_BOOT, olds, news).length > 0;
    if (redefine || reboot) {
      const uuid = (await virsh(t, ["domuuid", id])).stdout.trim();
      await stopDomain(t, id, news.shutdownTimeoutSeconds);
      if (redefine) await defineXml(t, ["define"], domainXml(news, uuid));
    }
    // A definition made anew has the wanted data disks already.
    if (!redefine) await plugDataDisks(t, id, olds.dataDisks ?? [], news.dataDisks ?? []);
    // State names the marker the host has: the new one only when the domain was defined anew.
    const owner = redefine ? news.owner : olds.owner;
    if (!shouldRun(news)) {
      await stopDomain(t, id, news.shutdownTimeoutSeconds);
      return { outs: { ...news, owner, running: false, startedAt: olds.startedAt } };
    }
    const state = (await virshIfExists(t, ["domstate", id]))?.trim();
    if (state === "running") return { outs: { ...news, owner, running: true, startedAt: olds.startedAt } };
    await virsh(t, ["start", id]);
    return { outs: { ...news, owner, running: true, startedAt: new Date().toISOString() } };
  },

  async delete(id, props) {
    const t = props.target;
    const existing = await readDomain(t, id);
    if (existing !== undefined && !sameOwner(existing.owner, props.owner)) {
      // Its logs are that domain's now: they stay too.
      leftAloneWarning(`domain ${id}`, `virsh destroy ${id}; virsh undefine ${id} --nvram`);
      return;
    }
    if (existing !== undefined) {
      await stopDomain(t, id, props.shutdownTimeoutSeconds);
      await virsh(t, ["undefine", id, "--nvram"]);
    }
    // Leave no trace: our console log, and the log libvirt keeps per domain (it never removes it).
    await connect(t.connection).run(["rm", "-f", "--", props.consoleLog, `${QEMU_LOG_DIR}/${id}.log`]);
  },
});

export class Domain extends DynamicResource {
  declare readonly name: pulumi.Output<string>;
  declare readonly consoleLog: pulumi.Output<string>;
  declare readonly startedAt: pulumi.Output<string>;
  /** Known in preview, unlike startedAt while the domain changes: what waits for the guest reads it. */
  declare readonly restart: pulumi.Output<string>;

  constructor(name: string, args: DomainArgs, opts?: pulumi.CustomResourceOptions) {
    super(domainProvider, name, { ...args, startedAt: undefined, restart: undefined }, deleteFirst(opts), "vm-cluster", "Domain");
  }
}
