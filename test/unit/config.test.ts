import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import {
  type ClusterModel,
  broadcastAddress,
  cidrContains,
  clusterNames,
  formatIpv4,
  networkAddress,
  parseCidr,
  parseClusterConfig,
  parseIpv4,
  parseSize,
  stableMac,
  vmNames,
} from "../../model";
import {
  CA_PEM,
  ED25519_FINGERPRINT,
  ED25519_PUBLIC_KEY,
  HOME,
  PRIVATE_KEY_TEXT,
  RSA_PUBLIC_KEY,
  baseRaw,
  ed25519Line,
  fakeIo,
  parseOk,
  problemsOf,
} from "./fixtures/cluster-config";

const GiB = 1024 ** 3;

const ssh = (extra: Record<string, unknown> = {}) => ({
  type: "ssh",
  host: "vmhost.example",
  user: "root",
  privateKey: "~/.ssh/id_ed25519",
  hostKey: ED25519_FINGERPRINT,
  ...extra,
});

describe("Pulumi.anemoi.yaml", () => {
  // Pulumi passes top-level scalars as strings and structured values as parsed JSON; do the same.
  const stackFile = path.join(__dirname, "../../Pulumi.anemoi.yaml");
  const document = parseYaml(readFileSync(stackFile, "utf8")) as { config: Record<string, unknown> };
  const raw = Object.fromEntries(
    Object.entries(document.config).map(([key, value]) => [key.replace(/^vm-cluster:/, ""), typeof value === "object" ? value : String(value)]),
  );

  it("uses only vm-cluster: keys", () => {
    expect(Object.keys(document.config).every((key) => key.startsWith("vm-cluster:"))).toBe(true);
  });

  it("validates to the seed's cluster", () => {
    const io = fakeIo();
    const result = parseClusterConfig(raw, io);
    expect(result).toMatchObject({ ok: true });
    const model = (result as { model: ClusterModel }).model;
    // host_vars/anemoi.yml: names, addresses, sizes; the key and CA files are read through ~/.
    expect(io.reads).toEqual([`${HOME}/.ssh/anemoi_rsa.pub`, `${HOME}/ca.crt`]);
    expect(model.cluster).toBe("anemoi");
    expect(model.sites[0]!.host).toEqual({ type: "local", sudo: false });
    expect(model.sites[0]!.lan).toEqual({ interface: "eno1", subnet: "172.17.1.0/24" });
    expect(model.sites[0]!.network).toEqual({
      name: "anemoi",
      bridge: "kvmbr0",
      cidr: "172.17.2.0/24",
      prefix: 24,
      netmask: "255.255.255.0", // the seed's vm_cluster_bridge_mask
      gateway: "172.17.2.1",
      dhcpStart: "172.17.2.2",
      dhcpEnd: "172.17.2.254",
      domain: "anemoi.internal",
    });
    expect(model.pool).toEqual({ name: "anemoi-pool", dir: "/var/lib/libvirt/images/anemoi" });
    expect(model.vms.map((vm) => [vm.name, vm.ip])).toEqual([
      ["boreas", "172.17.2.2"],
      ["zephyrus", "172.17.2.3"],
      ["notus", "172.17.2.4"],
      ["eurus", "172.17.2.5"],
    ]);
    for (const vm of model.vms) {
      expect(vm).toMatchObject({ memoryMiB: 2048, vcpus: 1, diskBytes: 35 * GiB, domain: `anemoi-${vm.name}`, fqdn: `${vm.name}.anemoi.internal`, groups: [] });
      expect(vm.mac).toBe(stableMac("anemoi", vm.name));
    }
    expect(model.sshPublicKey).toBe(RSA_PUBLIC_KEY);
    // The private key beside the .pub, as written: ssh and Ansible expand ~ themselves.
    expect(model.sshIdentityFile).toBe("~/.ssh/anemoi_rsa");
    expect(model.caCertificatePem).toBe(CA_PEM);
    expect(model.image.url).toMatch(/^https:\/\/cloud\.debian\.org\/images\/cloud\/bookworm\/latest\/debian-12-genericcloud-amd64\.qcow2$/);
    expect(model.image.fileName).toBe("debian-12-genericcloud-amd64.qcow2");
    expect(model.image.checksum).toEqual({ kind: "checksumsUrl", checksumsUrl: "https://cloud.debian.org/images/cloud/bookworm/latest/SHA512SUMS" });
    expect(model).toMatchObject({
      firewallTag: "vm-cluster:anemoi",
      domainType: "kvm",
      readinessTimeoutSeconds: 600,
      consolePassword: false,
      disableCloudInitAfterBoot: false,
    });
  });
});

describe("parseClusterConfig: valid configs", () => {
  it("applies defaults and derives the bridge name when none is given", () => {
    const model = parseOk(baseRaw());
    expect(model.sites[0]!.network.bridge).toBe("vmc-anemoi");
    expect(model.caCertificatePem).toBeUndefined();
    expect(model.vms[0]).toMatchObject({ memoryMiB: 2048, vcpus: 1, diskBytes: 35 * GiB });
  });

  it("coerces numeric and boolean strings, as Pulumi passes top-level scalars", () => {
    const model = parseOk({ ...baseRaw(), readinessTimeoutSeconds: "900", consolePassword: "true", disableCloudInitAfterBoot: "false" });
    expect(model.readinessTimeoutSeconds).toBe(900);
    expect(model.consolePassword).toBe(true);
    expect(model.disableCloudInitAfterBoot).toBe(false);
  });

  it("lets each VM override the defaults, and the defaults be changed", () => {
    const raw = baseRaw();
    raw.defaults = { disk: "20GiB", memoryMiB: "1024", vcpus: 2 };
    (raw.vms as Record<string, unknown>[])[1] = { name: "zephyrus", ip: "172.17.2.3", memoryMiB: 4096, vcpus: 4, disk: "1T", mac: "52:54:00:AB:CD:EF" };
    const [boreas, zephyrus] = parseOk(raw).vms;
    expect(boreas).toMatchObject({ memoryMiB: 1024, vcpus: 2, diskBytes: 20 * GiB });
    expect(zephyrus).toMatchObject({ memoryMiB: 4096, vcpus: 4, diskBytes: 1024 * GiB, mac: "52:54:00:ab:cd:ef" });
  });

  it("takes keys and certificates inline", () => {
    const model = parseOk({ ...baseRaw(), sshPublicKey: { key: ED25519_PUBLIC_KEY }, caCertificate: { pem: CA_PEM } });
    expect(model.sshPublicKey).toBe(ED25519_PUBLIC_KEY);
    expect(model.caCertificatePem).toBe(CA_PEM);
    // No file, so no private key to name in the ssh_config.
    expect(model.sshIdentityFile).toBeUndefined();
  });

  it("pins an SSH host by fingerprint, or by a known_hosts line whose fingerprint it computes", () => {
    const byFingerprint = parseOk({ ...baseRaw(), host: ssh() }).sites[0]!.host;
    expect(byFingerprint).toMatchObject({
      type: "ssh",
      port: 22,
      sudo: false,
      privateKey: PRIVATE_KEY_TEXT,
      hostKey: { sha256Fingerprint: ED25519_FINGERPRINT },
    });
    // The expected fingerprint is what ssh-keygen -lf printed for this key.
    const byLine = parseOk({ ...baseRaw(), host: ssh({ hostKey: `vmhost.example,10.0.0.5 ${ED25519_PUBLIC_KEY}`, port: "2222", sudo: "true" }) }).sites[0]!
      .host;
    expect(byLine).toMatchObject({ port: 2222, sudo: true, hostKey: { sha256Fingerprint: ED25519_FINGERPRINT, publicKey: { type: "ssh-ed25519" } } });
  });

  it("accepts an inline private key without reading a file", () => {
    const io = fakeIo();
    const result = parseClusterConfig({ ...baseRaw(), host: ssh({ privateKey: PRIVATE_KEY_TEXT }) }, io);
    expect(result.ok).toBe(true);
    expect(io.reads).not.toContain(PRIVATE_KEY_TEXT);
  });

  it("takes an image with a fixed digest", () => {
    const sha512 = "AB".repeat(64);
    const model = parseOk({ ...baseRaw(), image: { url: "file:///srv/images/test%20image.qcow2", sha512 } });
    expect(model.image).toEqual({
      url: "file:///srv/images/test%20image.qcow2",
      fileName: "test image.qcow2",
      checksum: { kind: "sha512", sha512: sha512.toLowerCase() },
    });
  });
});

describe("parseClusterConfig: Kubernetes-lab shape", () => {
  it("takes sizes from the VM, then its class, then the defaults", () => {
    const raw: Record<string, any> = baseRaw();
    raw.defaults = { memoryMiB: 512, vcpus: 1, disk: "10G" };
    raw.classes = { control: { memoryMiB: 2048, vcpus: 2 }, worker: { disk: "20G" } };
    Object.assign(raw.vms[0], { class: "control" });
    Object.assign(raw.vms[1], { class: "worker", vcpus: 4 });
    Object.assign(raw.vms[2], { class: "control", memoryMiB: 1024 });
    const sizes = parseOk(raw).vms.map((vm) => [vm.name, vm.memoryMiB, vm.vcpus, vm.diskBytes / GiB]);
    expect(sizes).toEqual([
      ["boreas", 2048, 2, 10],
      ["zephyrus", 512, 4, 20],
      ["notus", 1024, 2, 10],
      ["eurus", 512, 1, 10],
    ]);
  });

  it("keeps each VM's groups and the groups of groups, and names each VM in the cluster's DNS domain", () => {
    const raw: Record<string, any> = baseRaw();
    raw.vms[0].groups = ["kube_control_plane", "etcd"];
    raw.vms[1].groups = ["kube_node"];
    raw.inventory = { children: { k8s_cluster: ["kube_control_plane", "kube_node"], lab: ["k8s_cluster"] } };
    raw.network.domain = "lab.example";
    const model = parseOk(raw);
    expect(model.vms.map((vm) => [vm.fqdn, vm.groups])).toEqual([
      ["boreas.lab.example", ["kube_control_plane", "etcd"]],
      ["zephyrus.lab.example", ["kube_node"]],
      ["notus.lab.example", []],
      ["eurus.lab.example", []],
    ]);
    expect(model.inventoryChildren).toEqual({ k8s_cluster: ["kube_control_plane", "kube_node"], lab: ["k8s_cluster"] });
    expect(model.sites[0]!.network.domain).toBe("lab.example");
  });

  it("puts each data disk in the pool as <domain>_<name>.raw, which no VM's own volumes can be", () => {
    const raw: Record<string, any> = baseRaw();
    raw.vms[0].dataDisks = [
      { name: "ceph", size: "1G" },
      { name: "osd-2", size: 4096 },
    ];
    expect(parseOk(raw).vms[0]!.dataDisks).toEqual([
      { name: "ceph", sizeBytes: GiB, volume: "anemoi-boreas_ceph.raw" },
      { name: "osd-2", sizeBytes: 4096, volume: "anemoi-boreas_osd-2.raw" },
    ]);
  });
});

describe("README's Kubernetes lab", () => {
  it("is a valid stack: one control-plane node and two workers, with their classes, groups and data disks", () => {
    const readme = readFileSync(path.join(__dirname, "../../README.md"), "utf8");
    const block = /<!-- kubernetes-lab:begin -->\n```yaml\n([\s\S]*?)```\n<!-- kubernetes-lab:end -->/.exec(readme);
    expect(block, "the yaml block between the kubernetes-lab markers").not.toBeNull();
    const config = (parseYaml(block![1]!) as { config: Record<string, unknown> }).config;
    const raw = Object.fromEntries(Object.entries(config).map(([key, value]) => [key.replace(/^vm-cluster:/, ""), value]));
    const model = parseOk(raw);
    expect(model.vms.map((vm) => [vm.name, vm.memoryMiB, vm.vcpus, vm.diskBytes / GiB, vm.groups, vm.dataDisks.map((d) => d.name)])).toEqual([
      ["cp1", 4096, 2, 35, ["kube_control_plane", "etcd"], []],
      ["w1", 8192, 4, 50, ["kube_node"], ["ceph"]],
      ["w2", 8192, 4, 50, ["kube_node"], ["ceph"]],
    ]);
    expect(model.inventoryChildren).toEqual({ k8s_cluster: ["kube_control_plane", "kube_node"] });
    expect(model.vms[0]!.fqdn).toBe("cp1.lab.internal");
  });
});

describe("parseClusterConfig: each bad config names its key", () => {
  const vm = (raw: Record<string, any>, i: number) => raw.vms[i] as Record<string, unknown>;
  const cases: [string, (raw: Record<string, any>) => void, string, string][] = [
    ["uppercase cluster name", (r) => (r.cluster = "Anemoi"), "cluster", "lowercase"],
    ["cluster name over 20 characters", (r) => (r.cluster = "a".repeat(21)), "cluster", "1-20"],
    ["hyphen in the cluster name", (r) => (r.cluster = "my-lab"), "cluster", 'no "-"'],
    ["misspelt top-level key", (r) => (r.vmss = []), "vmss", "unknown key"],
    ["misspelt VM key", (r) => (vm(r, 0).memory = 4096), "vms[0].memory", "memoryMiB"],
    ["missing network", (r) => delete r.network, "network", "required"],
    ["no VMs", (r) => (r.vms = []), "vms", "at least one VM"],
    ["CIDR that does not parse", (r) => (r.network.cidr = "172.17.2.0/33"), "network.cidr", "not an IPv4 CIDR"],
    ["CIDR with host bits", (r) => (r.network.cidr = "172.17.2.1/24"), "network.cidr", "172.17.2.0/24"],
    ["network too small", (r) => (r.network.cidr = "172.17.2.0/31"), "network.cidr", "/30 or shorter"],
    ["gateway outside the network", (r) => (r.network.gateway = "172.17.3.1"), "network.gateway", "outside network.cidr"],
    ["gateway on the broadcast address", (r) => (r.network.gateway = "172.17.2.255"), "network.gateway", "broadcast"],
    ["gateway that is not an address", (r) => (r.network.gateway = "172.17.2"), "network.gateway", "not an IPv4 address"],
    ["DHCP range reversed", (r) => Object.assign(r.network, { dhcpStart: "172.17.2.200", dhcpEnd: "172.17.2.100" }), "network.dhcpEnd", "reversed"],
    ["DHCP range leaving the network", (r) => (r.network.dhcpEnd = "172.17.3.10"), "network.dhcpEnd", "outside network.cidr"],
    ["DHCP range over the gateway", (r) => (r.network.dhcpStart = "172.17.2.1"), "network.dhcpStart", "includes the gateway"],
    ["bridge name over 15 characters", (r) => (r.network.bridge = "bridge-of-anemoi"), "network.bridge", "at most 15"],
    ["group name with a hyphen", (r) => (vm(r, 0).groups = ["kube-node"]), "vms[0].groups[0]", "not an Ansible group name"],
    ["group name Ansible has already", (r) => (vm(r, 1).groups = ["etcd", "all"]), "vms[1].groups[1]", "every Ansible inventory has already"],
    ["group named as the cluster", (r) => (vm(r, 0).groups = ["anemoi"]), "vms[0].groups[0]", "cluster's own group"],
    ["group named as a VM", (r) => (vm(r, 0).groups = ["zephyrus"]), "vms[0].groups[0]", "name of a VM"],
    ["groups that is not a list", (r) => (vm(r, 0).groups = "etcd"), "vms[0].groups", "a list"],
    [
      "children group listing a group no VM is in",
      (r) => Object.assign(vm(r, 0), { groups: ["kube_node"] }) && (r.inventory = { children: { k8s_cluster: ["kube_node", "kube_control_plane"] } }),
      "inventory.children.k8s_cluster[1]",
      'no VM is in group "kube_control_plane"',
    ],
    ["children group with no members", (r) => (r.inventory = { children: { k8s_cluster: [] } }), "inventory.children.k8s_cluster", "at least one group"],
    [
      "children group with a bad name",
      (r) => (r.inventory = { children: { "k8s-cluster": ["x"] } }),
      "inventory.children.k8s-cluster",
      "not an Ansible group name",
    ],
    ["groups inside each other", (r) => (r.inventory = { children: { a: ["b"], b: ["a"] } }), "inventory.children.a", "a → b → a"],
    ["misspelt inventory key", (r) => (r.inventory = { child: {} }), "inventory.child", "unknown key"],
    ["class that does not exist", (r) => Object.assign(r, { classes: { worker: {} } }) && (vm(r, 2).class = "wrker"), "vms[2].class", 'no class "wrker"'],
    ["class with a misspelt size", (r) => (r.classes = { worker: { memory: 1024 } }), "classes.worker.memory", "unknown key"],
    ["class name with an underscore", (r) => (r.classes = { big_one: {} }), "classes.big_one", "not a class name"],
    ["class with memory 0", (r) => (r.classes = { worker: { memoryMiB: 0 } }), "classes.worker.memoryMiB", "at least 1"],
    ["data disk name that is no id", (r) => (vm(r, 0).dataDisks = [{ name: "Ceph Disk", size: "1G" }]), "vms[0].dataDisks[0].name", "not a data disk name"],
    ["running that is not a boolean", (r) => (vm(r, 0).running = "no"), "vms[0].running", "expected true or false"],
    ["data disk name over 20 characters", (r) => (vm(r, 0).dataDisks = [{ name: "d".repeat(21), size: "1G" }]), "vms[0].dataDisks[0].name", "at most 20"],
    [
      "two data disks of one name",
      (r) =>
        (vm(r, 1).dataDisks = [
          { name: "ceph", size: "1G" },
          { name: "osd", size: "1G" },
          { name: "ceph", size: "2G" },
        ]),
      "vms[1].dataDisks[2].name",
      "already the name of dataDisks[0]",
    ],
    ["data disk without a size", (r) => (vm(r, 0).dataDisks = [{ name: "ceph" }]), "vms[0].dataDisks[0].size", "required"],
    ["data disk of 0 bytes", (r) => (vm(r, 0).dataDisks = [{ name: "ceph", size: 0 }]), "vms[0].dataDisks[0].size", "more than 0"],
    [
      "too many data disks",
      (r) => (vm(r, 0).dataDisks = Array.from({ length: 9 }, (_, i) => ({ name: `d${i}`, size: "1G" }))),
      "vms[0].dataDisks",
      "at most 8",
    ],
    [
      "cloud-config setting the host name",
      (r) => (vm(r, 0).cloudConfig = { inline: { hostname: "x" } }),
      "vms[0].cloudConfig.hostname",
      "vm-cluster's: it comes from vms[].name",
    ],
    [
      "cloud-config with a CA of its own",
      (r) => (r.defaults = { cloudConfig: { inline: "ca_certs: {trusted: []}" } }),
      "defaults.cloudConfig.ca_certs",
      "caCertificate",
    ],
    ["cloud-config with a module not merged", (r) => (vm(r, 0).cloudConfig = { inline: { ntp: {} } }), "vms[0].cloudConfig.ntp", "use write_files, runcmd"],
    [
      "cloud-config writing /etc/hosts",
      (r) => (vm(r, 0).cloudConfig = { inline: { write_files: [{ path: "/etc/hosts", content: "" }] } }),
      "vms[0].cloudConfig.write_files[0].path",
      "vm-cluster's to write",
    ],
    [
      "cloud-config writing into the CA directory",
      (r) => (vm(r, 0).cloudConfig = { inline: { write_files: [{ path: "/usr/local/share/ca-certificates/vm-cluster/../vm-cluster/my.crt", content: "" }] } }),
      "vms[0].cloudConfig.write_files[0].path",
      "CA certificates",
    ],
    [
      "cloud-config writing a host key",
      (r) => (vm(r, 0).cloudConfig = { inline: { write_files: [{ path: "/etc/ssh/ssh_host_ed25519_key", content: "" }] } }),
      "vms[0].cloudConfig.write_files[0].path",
      "host key",
    ],
    [
      "cloud-config file mode given as a number",
      (r) => (vm(r, 0).cloudConfig = { inline: "write_files:\n  - {path: /etc/x, content: hello, permissions: 0644}\n" }),
      "vms[0].cloudConfig.write_files[0].permissions",
      "quoted octal mode",
    ],
    [
      "cloud-config file entry with a misspelt key",
      (r) => (vm(r, 0).cloudConfig = { inline: { write_files: [{ path: "/etc/x", content: "y", mode: "0644" }] } }),
      "vms[0].cloudConfig.write_files[0].mode",
      "the keys allowed here are path, content, owner",
    ],
    ["cloud-config user root", (r) => (vm(r, 0).cloudConfig = { inline: { users: [{ name: "root" }] } }), "vms[0].cloudConfig.users[0].name", "sshPublicKey"],
    [
      "cloud-config command that is a mapping",
      (r) => (vm(r, 0).cloudConfig = { inline: { runcmd: [{ run: "x" }] } }),
      "vms[0].cloudConfig.runcmd[0]",
      "a shell line",
    ],
    ["cloud-config with both file and inline", (r) => (vm(r, 0).cloudConfig = { file: "~/lab.yaml", inline: {} }), "vms[0].cloudConfig", "both are set"],
    ["cloud-config file that is a script", (r) => (vm(r, 0).cloudConfig = { file: "~/boot.sh" }), "vms[0].cloudConfig.file", "put its commands under runcmd"],
    ["cloud-config file that is missing", (r) => (vm(r, 0).cloudConfig = { file: "~/none.yaml" }), "vms[0].cloudConfig.file", `cannot read ${HOME}/none.yaml`],
    ["cloud-config text that is not YAML", (r) => (vm(r, 0).cloudConfig = { inline: "runcmd: [a" }), "vms[0].cloudConfig.inline", "not YAML"],
    ["cloud-config that is a list", (r) => (vm(r, 0).cloudConfig = { inline: ["runcmd"] }), "vms[0].cloudConfig", "cloud-config mapping"],
    ["domain with an underscore", (r) => (r.network.domain = "my_lab.internal"), "network.domain", "not a DNS domain"],
    ["domain with a trailing dot", (r) => (r.network.domain = "lab.internal."), "network.domain", "not a DNS domain"],
    ["bridge is the LAN interface", (r) => (r.network.bridge = "eno1"), "network.bridge", "LAN interface"],
    ["LAN interface with a space", (r) => (r.lan.interface = "eth 0"), "lan.interface", "not a Linux interface name"],
    ["LAN subnet overlapping the cluster", (r) => (r.lan.subnet = "172.17.0.0/16"), "network.cidr", "overlaps lan.subnet"],
    ["VM address outside the network", (r) => (vm(r, 1).ip = "172.17.3.3"), "vms[1].ip", "outside network.cidr"],
    ["VM on the gateway address", (r) => (vm(r, 0).ip = "172.17.2.1"), "vms[0].ip", "gateway"],
    ["VM on the network address", (r) => (vm(r, 2).ip = "172.17.2.0"), "vms[2].ip", "network address"],
    ["VM address with an octet over 255", (r) => (vm(r, 0).ip = "172.17.2.300"), "vms[0].ip", "not an IPv4 address"],
    ["duplicate VM name", (r) => (vm(r, 1).name = "boreas"), "vms[1].name", "already the name of vms[0]"],
    ["duplicate VM address", (r) => (vm(r, 3).ip = "172.17.2.2"), "vms[3].ip", "already the address of vms[0]"],
    [
      "duplicate MAC",
      (r) => Object.assign(vm(r, 0), { mac: "52:54:00:00:00:01" }) && Object.assign(vm(r, 2), { mac: "52:54:00:00:00:01" }),
      "vms[2].mac",
      "already the MAC of vms[0]",
    ],
    ["configured MAC equal to a derived one", (r) => (vm(r, 3).mac = stableMac("anemoi", "boreas")), "vms[3].mac", "already the MAC of vms[0]"],
    ["VM name with an underscore", (r) => (vm(r, 0).name = "bor_eas"), "vms[0].name", "RFC 1123"],
    ["VM name ending in a hyphen", (r) => (vm(r, 0).name = "boreas-"), "vms[0].name", "RFC 1123"],
    ["VM name over 63 characters", (r) => (vm(r, 0).name = "b".repeat(64)), "vms[0].name", "RFC 1123"],
    ["multicast MAC", (r) => (vm(r, 0).mac = "53:54:00:00:00:01"), "vms[0].mac", "unicast"],
    ["vendor (globally administered) MAC", (r) => (vm(r, 0).mac = "00:16:3e:00:00:01"), "vms[0].mac", "locally administered"],
    ["MAC with dashes", (r) => (vm(r, 0).mac = "52-54-00-00-00-01"), "vms[0].mac", "52:54:00:12:34:56"],
    ["decimal-sounding disk size", (r) => (r.defaults = { disk: "35GB" }), "defaults.disk", "1024-based"],
    ["disk size that is not a size", (r) => (vm(r, 0).disk = "big"), "vms[0].disk", "not a size"],
    ["disk size not whole sectors", (r) => (vm(r, 0).disk = 1000), "vms[0].disk", "multiple of 512"],
    ["zero memory", (r) => (vm(r, 0).memoryMiB = 0), "vms[0].memoryMiB", "at least 1"],
    ["negative memory as a string", (r) => (r.defaults = { memoryMiB: "-5" }), "defaults.memoryMiB", "at least 1"],
    ["fractional vCPUs", (r) => (vm(r, 0).vcpus = 1.5), "vms[0].vcpus", "whole number"],
    ["missing public key file", (r) => (r.sshPublicKey = { file: "~/.ssh/missing.pub" }), "sshPublicKey.file", `cannot read ${HOME}/.ssh/missing.pub`],
    ["public key file that holds a private key", (r) => (r.sshPublicKey = { file: "~/.ssh/id_ed25519" }), "sshPublicKey.file", "PRIVATE key"],
    [
      "unsupported key type",
      (r) => (r.sshPublicKey = { key: "ssh-dss AAAAB3NzaC1kc3MAAACBAP1= old" }),
      "sshPublicKey.key",
      "does not start with a supported key type",
    ],
    ["truncated public key", (r) => (r.sshPublicKey = { key: ED25519_PUBLIC_KEY.slice(0, 40) }), "sshPublicKey.key", "not a base64 ssh-ed25519 key blob"],
    [
      "key labelled with the wrong type",
      (r) => (r.sshPublicKey = { key: ed25519Line(7).replace("ssh-ed25519", "ssh-rsa") }),
      "sshPublicKey.key",
      "not a base64 ssh-rsa key blob",
    ],
    ["both a key file and a key", (r) => (r.sshPublicKey = { file: "~/.ssh/id_ed25519.pub", key: ED25519_PUBLIC_KEY }), "sshPublicKey", "both are set"],
    ["CA file that is not PEM", (r) => (r.caCertificate = { file: "~/notes.txt" }), "caCertificate.file", "no -----BEGIN CERTIFICATE-----"],
    ["unreadable CA file", (r) => (r.caCertificate = { file: "/etc/ssl/none.crt" }), "caCertificate.file", "cannot read /etc/ssl/none.crt"],
    ["CA PEM with a damaged body", (r) => (r.caCertificate = { pem: CA_PEM.replace("MIIBiTCC", "MIIBiTXX") }), "caCertificate.pem", "not valid X.509"],
    [
      "image with both checksum kinds",
      (r) => (r.image = { url: "https://example.org/a.qcow2", sha512: "a".repeat(128), checksumsUrl: "https://example.org/SHA512SUMS" }),
      "image",
      "both are set",
    ],
    ["image over FTP", (r) => (r.image = { url: "ftp://example.org/a.qcow2", sha512: "a".repeat(128) }), "image.url", "only http://, https:// and file://"],
    ["image digest that is not SHA-512", (r) => (r.image = { url: "https://example.org/a.qcow2", sha512: "abc" }), "image.sha512", "128 hex digits"],
    ["relative pool directory", (r) => (r.poolDir = "images/anemoi"), "poolDir", "not absolute"],
    ["pool directory with ..", (r) => (r.poolDir = "/var/lib/libvirt/images/../../etc"), "poolDir", '".."'],
    ["pool directory that is a system directory", (r) => (r.poolDir = "/var/lib/libvirt/images/"), "poolDir", "system directory"],
    ["unknown domain type", (r) => (r.domainType = "xen"), "domainType", '"kvm" or "qemu"'],
    ["zero readiness timeout", (r) => (r.readinessTimeoutSeconds = "0"), "readinessTimeoutSeconds", "at least 1"],
    ["console password that is not a boolean", (r) => (r.consolePassword = "yes"), "consolePassword", "true or false"],
    ["unknown host type", (r) => (r.host = { type: "winrm" }), "host.type", '"local"'],
    ["SSH host without a host key", (r) => (r.host = { ...ssh(), hostKey: undefined }), "host.hostKey", "required"],
    ["SSH port out of range", (r) => (r.host = ssh({ port: 70000 })), "host.port", "1-65535"],
    ["SSH destination that looks like an option", (r) => (r.host = ssh({ host: "-oProxyCommand=sh" })), "host.host", "not a host name"],
    ["SSH user that is not a user name", (r) => (r.host = ssh({ user: "root;reboot" })), "host.user", "not a user name"],
    ["SSH private key path to a public key", (r) => (r.host = ssh({ privateKey: "~/.ssh/id_ed25519.pub" })), "host.privateKey", "PRIVATE KEY"],
    ["short host key fingerprint", (r) => (r.host = ssh({ hostKey: "SHA256:abc" })), "host.hostKey", "43 base64 characters"],
    ["host key pinned with a marker", (r) => (r.host = ssh({ hostKey: `@cert-authority * ${ED25519_PUBLIC_KEY}` })), "host.hostKey", "markers"],
  ];

  it.each(cases)("%s", (_title, edit, key, fragment) => {
    const problems = problemsOf(edit);
    expect(problems, problems.join("\n")).toHaveLength(1);
    expect(problems[0]!.startsWith(`vm-cluster:${key}: `)).toBe(true);
    expect(problems[0]).toContain(fragment);
  });

  it("never puts an inline private key into a message", () => {
    const secret = "-----BEGIN NOT-A-KEY-----\nc2VjcmV0LWJpdHM=\n-----END NOT-A-KEY-----";
    const problems = problemsOf((r) => (r.host = ssh({ privateKey: secret })));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^vm-cluster:host\.privateKey: /);
    expect(problems[0]).not.toContain("c2VjcmV0");
  });
});

describe("parseClusterConfig: every problem at once", () => {
  it("reports three separate problems together", () => {
    const problems = problemsOf((r) => {
      r.cluster = "Anemoi";
      r.vms[1].ip = "10.0.0.3";
      r.sshPublicKey = { file: "~/.ssh/missing.pub" };
    });
    expect(problems).toHaveLength(3);
    expect(problems.map((p) => p.split(": ")[0]).sort()).toEqual(["vm-cluster:cluster", "vm-cluster:sshPublicKey.file", "vm-cluster:vms[1].ip"]);
  });

  it("still checks the addresses next to a bad field", () => {
    const problems = problemsOf((r) => {
      Object.assign(r.vms[2], { memoryMiB: "lots", ip: "172.17.2.2" });
      Object.assign(r.network, { bridge: "x".repeat(16), gateway: "172.17.2.255" });
    });
    expect(problems.map((p) => p.split(": ")[0]).sort()).toEqual([
      "vm-cluster:network.bridge",
      "vm-cluster:network.gateway",
      "vm-cluster:vms[2].ip",
      "vm-cluster:vms[2].memoryMiB",
    ]);
  });

  it("says once that 300 VMs do not fit a /24, instead of a line per address past its end (issue 19)", () => {
    const problems = problemsOf((r) => (r.vms = Array.from({ length: 300 }, (_, i) => ({ name: `vm${i}`, ip: `172.17.2.${i + 2}` }))));
    expect(problems).toEqual([
      "vm-cluster:vms: 300 VMs do not fit network.cidr 172.17.2.0/24: a /24 holds at most 253 VMs (its host addresses less the gateway); give a larger network.cidr (a /23 holds 509) or fewer VMs",
    ]);
  });

  it("still names a wrong address of a VM that fits, beside the too-many-VMs line", () => {
    const problems = problemsOf((r) => {
      r.vms = Array.from({ length: 300 }, (_, i) => ({ name: `vm${i}`, ip: `172.17.2.${i + 2}` }));
      r.vms[5]!.ip = "10.9.9.9";
    });
    expect(problems).toEqual([expect.stringMatching(/^vm-cluster:vms: 300 VMs do not fit/), expect.stringMatching(/^vm-cluster:vms\[5\]\.ip: .*10\.9\.9\.9/)]);
  });

  it("fits exactly as many VMs as the network has addresses besides the gateway", () => {
    const vms = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `vm${i}`, ip: `172.17.2.${i + 2}` }));
    expect(problemsOf((r) => ((r.network = { ...r.network, cidr: "172.17.2.0/28", dhcpEnd: "172.17.2.14" }), (r.vms = vms(13))))).toEqual([]);
    expect(problemsOf((r) => ((r.network = { ...r.network, cidr: "172.17.2.0/28", dhcpEnd: "172.17.2.14" }), (r.vms = vms(14))))[0]).toMatch(
      /^vm-cluster:vms: 14 VMs do not fit .* a \/28 holds at most 13 VMs/,
    );
  });

  it("lists every unknown key on a line of its own", () => {
    const problems = problemsOf((r) => Object.assign(r.lan, { iface: "eno1", subnetz: "x" }));
    expect(problems).toEqual([
      expect.stringMatching(/^vm-cluster:lan\.iface: unknown key; the keys allowed here are interface, subnet, address$/),
      expect.stringMatching(/^vm-cluster:lan\.subnetz: unknown key/),
    ]);
  });
});

describe("IPv4 helpers", () => {
  it("parses dotted quads and refuses leading zeros and out-of-range octets", () => {
    expect(parseIpv4("172.17.2.1")).toBe(((172 * 256 + 17) * 256 + 2) * 256 + 1);
    expect(formatIpv4(parseIpv4("255.255.255.255")!)).toBe("255.255.255.255");
    for (const bad of ["172.017.2.1", "1.2.3", "1.2.3.4.5", "256.1.1.1", " 1.2.3.4", "a.b.c.d"]) expect(parseIpv4(bad)).toBeUndefined();
  });

  it("computes network, broadcast and membership", () => {
    const slash24 = parseCidr("172.17.2.0/24")!;
    expect(formatIpv4(networkAddress(slash24))).toBe("172.17.2.0");
    expect(formatIpv4(broadcastAddress(slash24))).toBe("172.17.2.255");
    // 10.0.0.4/30 holds .4 to .7.
    const slash30 = parseCidr("10.0.0.4/30")!;
    expect(formatIpv4(broadcastAddress(slash30))).toBe("10.0.0.7");
    expect(cidrContains(slash30, parseIpv4("10.0.0.7")!)).toBe(true);
    expect(cidrContains(slash30, parseIpv4("10.0.0.8")!)).toBe(false);
    expect(cidrContains(parseCidr("0.0.0.0/0")!, parseIpv4("203.0.113.9")!)).toBe(true);
  });
});

describe("sizes", () => {
  it("reads K/M/G/T as binary multiples, like qemu-img", () => {
    expect(parseSize("35G")).toBe(35 * 2 ** 30);
    expect(parseSize("35GiB")).toBe(35 * 2 ** 30);
    expect(parseSize("512M")).toBe(512 * 2 ** 20);
    expect(parseSize("1T")).toBe(2 ** 40);
    expect(parseSize("4k")).toBe(4096);
    expect(parseSize("1048576")).toBe(2 ** 20);
    expect(parseSize(1048576)).toBe(2 ** 20);
  });

  it("refuses decimal units, fractions and garbage", () => {
    for (const bad of ["35GB", "1.5G", "G", "-1G", "35 gigs", ""]) expect(parseSize(bad)).toBeUndefined();
  });
});

describe("derived names", () => {
  function allNames(cluster: string, vms: string[]): string[] {
    const names = clusterNames(cluster);
    return [
      names.pool,
      names.network,
      names.defaultBridge,
      names.firewallTag,
      names.defaultPoolDir,
      ...vms.flatMap((vm) => Object.values(vmNames(cluster, vm))),
    ];
  }

  it.each([
    ["anemoi", "boreas"],
    ["anemoi", "anemoi2"], // one name a prefix of the other
    ["clusteralpha0001", "clusteralpha0002"], // long names whose bridges are shortened
    ["abcdefghijk", "abcdefghijkl"], // longest full bridge name next to the shortest shortened one
  ])("gives %s and %s disjoint host-global names", (a, b) => {
    const vms = ["boreas", "pool", "x-pool", "a"];
    const namesA = allNames(a, vms);
    const namesB = allNames(b, vms);
    expect(namesA.filter((name) => namesB.includes(name))).toEqual([]);
  });

  it("keeps bridge names within Linux's 15 characters", () => {
    expect(clusterNames("anemoi").defaultBridge).toBe("vmc-anemoi");
    const long = clusterNames("a".repeat(20)).defaultBridge;
    expect(long.length).toBeLessThanOrEqual(15);
    expect(long.startsWith("vmc-aaaa_")).toBe(true);
  });

  it("names domains and volumes after cluster and VM", () => {
    expect(vmNames("anemoi", "boreas")).toEqual({ domain: "anemoi-boreas", diskVolume: "anemoi-boreas.qcow2", seedVolume: "anemoi-boreas-cidata.iso" });
  });
});

describe("stable MACs", () => {
  it("are locally administered unicast addresses under 52:54:00", () => {
    const mac = stableMac("anemoi", "boreas");
    expect(mac).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
  });

  it("stay the same for the same cluster and VM, and follow sha256(cluster:vm)", () => {
    expect(stableMac("anemoi", "boreas")).toBe(stableMac("anemoi", "boreas"));
    // Pinned to the documented derivation: changing it would re-address every existing VM.
    const digest = createHash("sha256").update("anemoi:boreas").digest("hex");
    expect(stableMac("anemoi", "boreas")).toBe(`52:54:00:${digest.slice(0, 2)}:${digest.slice(2, 4)}:${digest.slice(4, 6)}`);
  });

  it("differ between VMs and between clusters", () => {
    const macs = ["boreas", "zephyrus", "notus", "eurus"].flatMap((vm) => [stableMac("anemoi", vm), stableMac("other", vm)]);
    expect(new Set(macs).size).toBe(macs.length);
  });
});
