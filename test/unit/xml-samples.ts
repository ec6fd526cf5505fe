// The anemoi cluster's objects as the providers will build them, shared by the XML tests, and the
// recorded `virsh *dumpxml` output those tests read back.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Domain, Network, Owner, Pool, Volume } from "../../libvirt/xml";

export function fixture(name: string): string {
  return readFileSync(join(__dirname, "xml-fixtures", name), "utf8");
}

export const owner: Owner = { project: "vm-cluster", stack: "anemoi", cluster: "anemoi" };

export const pool: Pool = {
  name: "anemoi-pool",
  target: { path: "/var/lib/libvirt/images/anemoi", permissions: { mode: "0755", owner: 0, group: 0 } },
};

export const overlay: Volume = {
  name: "boreas.qcow2",
  capacity: 35 * 2 ** 30,
  target: { format: { type: "qcow2" } },
  backingStore: { path: "/var/cache/vm-cluster/images/debian-13-genericcloud-amd64.qcow2", format: { type: "qcow2" } },
};

export const seed: Volume = { name: "boreas-seed.iso", capacity: 378880, target: { format: { type: "iso" } } };

export const network: Network = {
  name: "anemoi",
  metadata: { owner },
  bridge: { name: "vmc-anemoi" },
  mac: { address: "52:54:00:12:fe:35" },
  ip: {
    address: "172.17.2.1",
    netmask: "255.255.255.0",
    dhcp: {
      range: { start: "172.17.2.2", end: "172.17.2.254" },
      hosts: [
        { mac: "52:54:00:aa:bb:01", name: "boreas", ip: "172.17.2.2" },
        { mac: "52:54:00:aa:bb:02", name: "zephyrus", ip: "172.17.2.3" },
      ],
    },
  },
};

export const domain: Domain = {
  type: "qemu",
  name: "anemoi-boreas",
  metadata: { owner },
  memory: 2048,
  vcpu: 1,
  devices: {
    emulator: "/usr/bin/qemu-system-x86_64",
    disks: [
      {
        driver: { type: "qcow2" },
        source: { file: "/var/lib/libvirt/images/anemoi/boreas.qcow2" },
        target: { dev: "vda" },
        readonly: false,
      },
      {
        driver: { type: "raw" },
        source: { file: "/var/lib/libvirt/images/anemoi/boreas-seed.iso" },
        target: { dev: "vdb" },
        readonly: true,
      },
    ],
    interfaces: [{ mac: { address: "52:54:00:aa:bb:01" }, source: { network: "anemoi" } }],
    serials: [{ log: { file: "/var/log/libvirt/qemu/anemoi-boreas-console.log" } }],
  },
};
