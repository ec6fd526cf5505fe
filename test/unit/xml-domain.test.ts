import { describe, expect, it } from "vitest";
import { domainXml, type DomainInputs } from "../../libvirt/domain";
import { buildDiskXml, buildDomainXml, parseDomainXml, type Domain } from "../../libvirt/xml";
import { domain, fixture } from "./xml-samples";

const kvm: Domain = { ...domain, type: "kvm" };

describe("domain XML", () => {
  it("reads back what it builds, for kvm and qemu", () => {
    expect(parseDomainXml(buildDomainXml(kvm))).toStrictEqual(kvm);
    expect(parseDomainXml(buildDomainXml(domain))).toStrictEqual(domain);
  });

  // AppArmor: virt-aa-helper follows the backing chain only of disks given as files.
  it("attaches both disks as virtio files, the seed read-only", () => {
    const xml = buildDomainXml(domain);
    expect(xml).not.toContain('type="volume"');
    const disks = xml.match(/<disk [\s\S]*?<\/disk>/g) ?? [];
    expect(disks).toHaveLength(2);
    expect(disks[0]).toMatch(
      /<disk type="file" device="disk">\s*<driver name="qemu" type="qcow2"\/>\s*<source file="\/var\/lib\/libvirt\/images\/anemoi\/boreas.qcow2"\/>\s*<target dev="vda" bus="virtio"\/>\s*<\/disk>/,
    );
    expect(disks[1]).toMatch(/<target dev="vdb" bus="virtio"\/>\s*<readonly\/>/);
  });

  it("gives data disks their serial, so the guest names them /dev/disk/by-id/virtio-<serial>, and spare PCIe ports to hot-plug into", () => {
    const inputs = {
      target: { connection: { type: "local" } },
      name: "anemoi-boreas",
      type: "qemu",
      memoryMiB: 384,
      vcpus: 1,
      diskPath: "/p/anemoi-boreas.qcow2",
      seedPath: "/p/anemoi-boreas-cidata.iso",
      network: "anemoi",
      mac: "52:54:00:aa:bb:01",
      consoleLog: "/var/log/libvirt/qemu/anemoi-boreas-console.log",
      owner: { project: "p", stack: "s", cluster: "anemoi" },
      shutdownTimeoutSeconds: 10,
      dataDisks: [
        { serial: "ceph", path: "/p/anemoi-boreas_ceph.raw" },
        { serial: "osd", path: "/p/anemoi-boreas_osd.raw" },
      ],
    } as DomainInputs;
    const xml = domainXml(inputs);
    const parsed = parseDomainXml(xml).devices.disks;
    expect(parsed.slice(2)).toStrictEqual([
      { driver: { type: "raw" }, source: { file: "/p/anemoi-boreas_ceph.raw" }, target: { dev: "vdc" }, readonly: false, serial: "ceph" },
      { driver: { type: "raw" }, source: { file: "/p/anemoi-boreas_osd.raw" }, target: { dev: "vdd" }, readonly: false, serial: "osd" },
    ]);
    expect(xml.match(/<controller type="pci" model="pcie-root-port"\/>/g)).toHaveLength(16);
    expect(buildDiskXml(parsed[2]!)).toMatch(/^<disk type="file" device="disk">[\s\S]*<serial>ceph<\/serial>[\s\S]*<\/disk>/);
  });

  it("builds a headless q35 machine with a logged serial console, guest agent, balloon and rng", () => {
    const xml = buildDomainXml(domain);
    expect(xml).toMatch(/<os>\s*<type arch="x86_64" machine="q35">hvm<\/type>\s*<boot dev="hd"\/>\s*<\/os>/);
    expect(xml).toContain('<memory unit="MiB">2048</memory>');
    expect(xml).toMatch(
      /<serial type="pty">\s*<log file="\/var\/log\/libvirt\/qemu\/anemoi-boreas-console.log" append="off"\/>\s*<\/serial>\s*<console type="pty"\/>/,
    );
    expect(xml).toMatch(/<interface type="network">\s*<mac address="52:54:00:aa:bb:01"\/>\s*<source network="anemoi"\/>\s*<model type="virtio"\/>/);
    expect(xml).toMatch(/<channel type="unix">\s*<target type="virtio" name="org.qemu.guest_agent.0"\/>/);
    expect(xml).toContain('<memballoon model="virtio"/>');
    expect(xml).toContain('<backend model="random">/dev/urandom</backend>');
    expect(xml).not.toMatch(/<graphics|<video/);
    // Without ACPI, `virsh shutdown` cannot reach the guest and every graceful stop times out.
    expect(xml).toMatch(/<features>\s*<acpi\/>\s*<apic\/>\s*<\/features>/);
  });

  // TCG cannot model the host CPU; without a <cpu> libvirt gives qemu its default model.
  it("asks for the host's CPU model under kvm only", () => {
    expect(buildDomainXml(kvm)).toContain('<cpu mode="host-model"/>');
    expect(buildDomainXml(domain)).not.toContain("<cpu");
  });

  it("leaves the emulator to libvirt when none is given", () => {
    const { emulator: _emulator, ...devices } = domain.devices;
    const xml = buildDomainXml({ ...domain, devices });
    expect(xml).not.toContain("<emulator");
    expect(parseDomainXml(xml).devices).toStrictEqual(devices);
  });

  // Memory in KiB, machine pc-q35-7.2, controllers, addresses, a qemu64 CPU: none of it is drift.
  it("reads dumpxml of the defined domain as the domain we defined", () => {
    // libvirt gave it a uuid, which a redefinition must carry to update the same domain.
    expect(parseDomainXml(fixture("domain-defined.xml"))).toStrictEqual({ ...domain, uuid: "bc8a4be4-c716-4619-9d52-01471bb828ad" });
  });

  // A running domain adds an id, aliases, pty paths, the disk's backing chain and seclabels.
  it("reads dumpxml of the running domain as the domain we defined", () => {
    expect(parseDomainXml(fixture("domain-running.xml"))).toStrictEqual({ ...domain, uuid: "5be1e059-687d-4c4d-b4df-7d6a5da4b731" });
  });

  it("sees a disk changed by hand to a volume disk as a disk gone", () => {
    const xml = fixture("domain-defined.xml")
      .replace("<disk type='file' device='disk'>", "<disk type='volume' device='disk'>")
      .replace("<source file='/var/lib/libvirt/images/anemoi/boreas.qcow2'/>", "<source pool='anemoi-pool' volume='boreas.qcow2'/>");
    expect(parseDomainXml(xml).devices.disks.map((disk) => disk.target.dev)).toStrictEqual(["vdb"]);
  });

  it("converts libvirt's memory units to MiB", () => {
    const xml = fixture("domain-defined.xml").replace("<memory unit='KiB'>2097152</memory>", "<memory unit='G'>4</memory>");
    expect(parseDomainXml(xml).memory).toBe(4096);
  });
});
