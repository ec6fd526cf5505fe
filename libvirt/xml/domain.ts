// A headless VM: q35, virtio everywhere, its disks as plain files, a serial console logged to a file
// (shown when readiness times out), the guest agent channel, a balloon and an entropy source.
import {
  attr,
  attrs,
  buildDocument,
  child,
  children,
  parseCount,
  parseDocument,
  requiredAttr,
  requiredChild,
  requiredText,
  scaledBytes,
  text,
  textWithAttrs,
  type XmlElement,
} from "./codec";
import { buildMetadataElement, parseMetadataElement, type Metadata } from "./metadata";

/** `kvm` on a host with hardware virtualization; `qemu` is software emulation (tests, nested hosts). */
export type DomainType = "kvm" | "qemu";
const DOMAIN_TYPES: readonly DomainType[] = ["kvm", "qemu"];

/** qemu's name for the image format behind a disk (a seed ISO is `raw` to qemu). */
export type DiskDriverType = "qcow2" | "raw";
const DISK_DRIVER_TYPES: readonly DiskDriverType[] = ["qcow2", "raw"];

/**
 * `<domain>`. Written but not read back, because they never vary: os (hvm, x86_64, q35, boot from
 * disk), cpu (host-model for kvm; none for qemu, where libvirt picks qemu64), features (acpi, apic), the console, the guest
 * agent channel, memballoon and rng. libvirt adds uuid, currentMemory, clock, on_* actions,
 * controllers, PCI addresses, input devices and audio; a running domain's XML also has an id,
 * aliases, pty paths and seclabels. Read the persistent definition with `dumpxml --inactive`:
 * the live one shows a host-model CPU expanded into a model and features.
 */
export interface Domain {
  type: DomainType;
  name: string;
  /** Given when redefining an existing domain: libvirt matches a definition to its domain by uuid. */
  uuid?: string;
  metadata?: Metadata;
  /** MiB (libvirt reports KiB). */
  memory: number;
  vcpu: number;
  devices: DomainDevices;
}

export interface DomainDevices {
  /** libvirt fills in the default emulator of the domain type when none is given. */
  emulator?: string;
  /** `<disk type='file' device='disk'>` on the virtio bus; other disks are not read. */
  disks: DomainDisk[];
  /** `<interface type='network'>` with a virtio model; other interfaces are not read. */
  interfaces: DomainInterface[];
  /** `<serial type='pty'>` logged to a file; the first is also the console. Others are not read. */
  serials: DomainSerial[];
  /**
   * `<controller type='pci' model='pcie-root-port'/>` in all: on q35 each PCIe device needs a port of
   * its own, and libvirt adds only as many as the devices at define time take, so a disk hot-plugged
   * later needs a spare. Written, not read back.
   */
  pcieRootPorts?: number;
}

/**
 * A disk as a file path, never `type='volume'`: virt-aa-helper skips the backing chain of a volume
 * disk, so AppArmor denies qemu the base image of an overlay (terraform-provider-libvirt #1354).
 */
export interface DomainDisk {
  driver: { type: DiskDriverType };
  source: { file: string };
  /** vda, vdb, ...: the bus is virtio. */
  target: { dev: string };
  readonly: boolean;
  /** What the guest sees as the disk's serial: udev names it /dev/disk/by-id/virtio-<serial>. */
  serial?: string;
}

export interface DomainInterface {
  mac: { address: string };
  source: { network: string };
}

export interface DomainSerial {
  /** Rewritten at each start (append='off'), so it holds the current boot only. */
  log: { file: string };
}

const GUEST_AGENT_CHANNEL = "org.qemu.guest_agent.0";

export function buildDomainXml(domain: Domain): string {
  const { devices } = domain;
  const element: XmlElement = { ...attrs({ type: domain.type }), name: domain.name };
  if (domain.uuid !== undefined) element.uuid = domain.uuid;
  if (domain.metadata !== undefined) element.metadata = buildMetadataElement(domain.metadata);
  element.memory = textWithAttrs(domain.memory, { unit: "MiB" });
  element.vcpu = String(domain.vcpu);
  element.os = { type: textWithAttrs("hvm", { arch: "x86_64", machine: "q35" }), boot: attrs({ dev: "hd" }) };
  // ACPI, so `virsh shutdown` reaches the guest as a power button press (without it QEMU runs with
  // -no-acpi and a graceful stop always waits out its bound); APIC, which x86 guests expect beside it.
  element.features = { acpi: "", apic: "" };
  // host-model: the guest sees the host's CPU features yet stays migratable; TCG has no host CPU.
  if (domain.type === "kvm") element.cpu = attrs({ mode: "host-model" });
  const deviceElements: XmlElement = {};
  if (devices.emulator !== undefined) deviceElements.emulator = devices.emulator;
  deviceElements.disk = devices.disks.map(diskElement);
  if (devices.pcieRootPorts !== undefined) {
    // libvirt wants the root complex listed first once any PCI controller is.
    deviceElements.controller = [
      attrs({ type: "pci", index: 0, model: "pcie-root" }),
      ...Array.from({ length: devices.pcieRootPorts }, () => attrs({ type: "pci", model: "pcie-root-port" })),
    ];
  }
  deviceElements.interface = devices.interfaces.map((nic) => ({
    ...attrs({ type: "network" }),
    mac: attrs({ address: nic.mac.address }),
    source: attrs({ network: nic.source.network }),
    model: attrs({ type: "virtio" }),
  }));
  deviceElements.serial = devices.serials.map((serial) => ({
    ...attrs({ type: "pty" }),
    log: attrs({ file: serial.log.file, append: "off" }),
  }));
  // `virsh console` attaches to the console, which libvirt binds to the first serial port.
  if (devices.serials.length > 0) deviceElements.console = attrs({ type: "pty" });
  deviceElements.channel = { ...attrs({ type: "unix" }), target: attrs({ type: "virtio", name: GUEST_AGENT_CHANNEL }) };
  deviceElements.memballoon = attrs({ model: "virtio" });
  deviceElements.rng = { ...attrs({ model: "virtio" }), backend: textWithAttrs("/dev/urandom", { model: "random" }) };
  element.devices = deviceElements;
  return buildDocument("domain", element);
}

function diskElement(disk: DomainDisk): XmlElement {
  return {
    ...attrs({ type: "file", device: "disk" }),
    driver: attrs({ name: "qemu", type: disk.driver.type }),
    source: attrs({ file: disk.source.file }),
    target: attrs({ dev: disk.target.dev, bus: "virtio" }),
    ...(disk.serial !== undefined ? { serial: disk.serial } : {}),
    ...(disk.readonly ? { readonly: "" } : {}),
  };
}

/** The `<disk>` document `virsh attach-device` takes. */
export function buildDiskXml(disk: DomainDisk): string {
  return buildDocument("disk", diskElement(disk));
}

export function parseDomainXml(xml: string): Domain {
  const root = parseDocument(xml, "domain");
  const name = requiredText(root, "name", "domain");
  const where = `domain ${name}`;
  const type = requiredAttr(root, "type", where);
  const domainType = DOMAIN_TYPES.find((known) => known === type);
  if (domainType === undefined) throw new Error(`${where}: type '${type}' is not one of ${DOMAIN_TYPES.join(", ")}`);
  const domain: Domain = {
    type: domainType,
    name,
    memory: scaledBytes(requiredChild(root, "memory", where), "KiB", `${where} <memory>`) / 2 ** 20,
    vcpu: parseCount(requiredText(root, "vcpu", where), `${where} <vcpu>`),
    devices: parseDevices(requiredChild(root, "devices", where), where),
  };
  const uuid = child(root, "uuid") && requiredText(root, "uuid", where);
  if (uuid) domain.uuid = uuid;
  const metadata = parseMetadataElement(root);
  if (metadata !== undefined) domain.metadata = metadata;
  return domain;
}

/** How many pcie-root-port controllers a domain has: fewer than we define means a domain from before data disks. */
export function pcieRootPortCount(xml: string): number {
  const devices = child(parseDocument(xml, "domain"), "devices");
  return devices === undefined ? 0 : children(devices, "controller").filter((c) => attr(c, "model") === "pcie-root-port").length;
}

function parseDevices(devices: XmlElement, where: string): DomainDevices {
  const parsed: DomainDevices = {
    disks: children(devices, "disk")
      .filter((disk) => attr(disk, "type") === "file" && (attr(disk, "device") ?? "disk") === "disk")
      .map((disk) => parseDisk(disk, where)),
    interfaces: children(devices, "interface")
      .filter((nic) => attr(nic, "type") === "network")
      .map((nic) => ({
        mac: { address: requiredAttr(requiredChild(nic, "mac", where), "address", `${where} <interface><mac>`) },
        source: { network: requiredAttr(requiredChild(nic, "source", where), "network", `${where} <interface><source>`) },
      })),
    serials: children(devices, "serial")
      .filter((serial) => attr(serial, "type") === "pty")
      .flatMap((serial) => {
        const file = attr(child(serial, "log"), "file");
        return file === undefined ? [] : [{ log: { file } }];
      }),
  };
  const emulator = child(devices, "emulator");
  if (emulator !== undefined) parsed.emulator = requiredText(devices, "emulator", where);
  return parsed;
}

function parseDisk(disk: XmlElement, where: string): DomainDisk {
  const target = requiredChild(disk, "target", where);
  const dev = requiredAttr(target, "dev", `${where} <disk><target>`);
  const diskWhere = `${where} disk ${dev}`;
  const type = requiredAttr(requiredChild(disk, "driver", diskWhere), "type", `${diskWhere} <driver>`);
  const driverType = DISK_DRIVER_TYPES.find((known) => known === type);
  if (driverType === undefined) throw new Error(`${diskWhere}: driver type '${type}' is not one of ${DISK_DRIVER_TYPES.join(", ")}`);
  const parsed: DomainDisk = {
    driver: { type: driverType },
    source: { file: requiredAttr(requiredChild(disk, "source", diskWhere), "file", `${diskWhere} <source>`) },
    target: { dev },
    readonly: child(disk, "readonly") !== undefined,
  };
  const serial = text(child(disk, "serial"));
  if (serial !== undefined) parsed.serial = serial;
  return parsed;
}
