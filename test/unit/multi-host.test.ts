// A cluster across several VM hosts (`hosts`): the config's rules, the model's sites and shares of
// network.cidr, the resources each host gets under mocks, and the hand-off files that reach VMs
// through their host where this machine has no route to them.
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { describe, expect, it } from "vitest";
import { README } from "../support/readme";
import { parseClusterConfig } from "../../model";
import { ansibleInventory, knownHosts, sshConfig } from "../../outputs";
import { ED25519_FINGERPRINT, ED25519_PUBLIC_KEY, baseRaw, fakeIo, parseOk, problemsOf } from "./fixtures/cluster-config";
import { buildCluster, resolve } from "./fixtures/mock-cluster";

const value = (input: unknown): Promise<any> => resolve(input as never);

const LAN = { interface: "eno1", subnet: "172.17.1.0/24" };
const SSH = { type: "ssh", user: "root", privateKey: "~/.ssh/id_ed25519", hostKey: ED25519_FINGERPRINT };

/** anemoi on two hosts: this machine and one over SSH, each with two VMs in its quarter of 172.17.2.0/24. */
function twoHosts(): Record<string, any> {
  const { lan: _lan, ...raw } = baseRaw() as Record<string, any>;
  return {
    ...raw,
    network: { cidr: "172.17.2.0/24" },
    hosts: {
      nuc1: { type: "local", lan: { ...LAN, address: "172.17.1.10" } },
      nuc2: { ...SSH, host: "nuc2.example", lan: { ...LAN, address: "172.17.1.11" } },
    },
    vms: [
      { name: "boreas", ip: "172.17.2.2", host: "nuc1" },
      { name: "zephyrus", ip: "172.17.2.3", host: "nuc1" },
      { name: "notus", ip: "172.17.2.66", host: "nuc2" },
      { name: "eurus", ip: "172.17.2.67", host: "nuc2" },
    ],
  };
}

const problemsWith = (edit: (raw: Record<string, any>) => void) => problemsOf(edit, twoHosts);

describe("hosts: the config", () => {
  it("gives each host a quarter of network.cidr by its place, with the first address as gateway and the rest for DHCP", () => {
    const model = parseOk(twoHosts());
    expect(model.sites.map((site) => [site.name, site.network.cidr, site.network.gateway, site.network.dhcpStart, site.network.dhcpEnd])).toEqual([
      ["nuc1", "172.17.2.0/26", "172.17.2.1", "172.17.2.2", "172.17.2.62"],
      ["nuc2", "172.17.2.64/26", "172.17.2.65", "172.17.2.66", "172.17.2.126"],
    ]);
    expect(model.sites.map((site) => site.lan.address)).toEqual(["172.17.1.10", "172.17.1.11"]);
    expect(model.vms.map((vm) => vm.site)).toEqual(["nuc1", "nuc1", "nuc2", "nuc2"]);
    // One domain for the whole cluster, one libvirt network name on every host.
    expect(new Set(model.sites.map((site) => `${site.network.name} ${site.network.domain}`))).toEqual(new Set(["anemoi anemoi.internal"]));
  });

  it("keeps a host's own network, and derives its gateway and range from it", () => {
    const raw = twoHosts();
    raw.hosts.nuc2.network = { cidr: "172.17.2.128/25", gateway: "172.17.2.254" };
    raw.vms[2].ip = "172.17.2.130";
    raw.vms[3].ip = "172.17.2.131";
    const nuc2 = parseOk(raw).sites[1]!.network;
    expect([nuc2.cidr, nuc2.gateway, nuc2.dhcpStart, nuc2.dhcpEnd]).toEqual(["172.17.2.128/25", "172.17.2.254", "172.17.2.129", "172.17.2.253"]);
  });

  it("lets the VMs of a single entry leave host out", () => {
    const raw = twoHosts();
    delete raw.hosts.nuc2;
    raw.vms = raw.vms.slice(0, 2).map(({ host: _host, ...vm }: Record<string, unknown>) => vm);
    expect(parseOk(raw).vms.map((vm) => vm.site)).toEqual(["nuc1", "nuc1"]);
  });

  it("derives the gateway and DHCP range of a single host's network too", () => {
    const raw = baseRaw() as Record<string, any>;
    raw.network = { cidr: "172.17.2.0/24" };
    const network = parseOk(raw).sites[0]!.network;
    expect([network.gateway, network.dhcpStart, network.dhcpEnd]).toEqual(["172.17.2.1", "172.17.2.2", "172.17.2.254"]);
    expect(parseOk(raw).sites[0]!.name).toBeUndefined();
  });

  it.each<[string, (raw: Record<string, any>) => void, string, string]>([
    ["host beside hosts", (r) => (r.host = { type: "local" }), "host", "not both"],
    ["lan beside hosts", (r) => (r.lan = LAN), "lan", "hosts.<name>.lan"],
    ["a gateway for all hosts", (r) => (r.network.gateway = "172.17.2.1"), "network.gateway", "hosts.<name>.network.gateway"],
    ["a VM without its host", (r) => delete r.vms[1].host, "vms[1].host", "is required with several hosts: name the one this VM runs on (nuc1, nuc2)"],
    ["a VM on an unknown host", (r) => (r.vms[1].host = "nuc3"), "vms[1].host", 'there is no host "nuc3" in hosts; use one of nuc1, nuc2'],
    ["a VM outside its host's share", (r) => (r.vms[3].ip = "172.17.2.5"), "vms[3].ip", "outside nuc2's share of network.cidr, 172.17.2.64/26"],
    ["a VM on its host's gateway", (r) => (r.vms[3].ip = "172.17.2.65"), "vms[3].ip", "is the gateway (the first address of 172.17.2.64/26)"],
    ["a host without its LAN address", (r) => delete r.hosts.nuc2.lan.address, "hosts.nuc2.lan.address", "is required with several hosts"],
    ["a LAN address off the LAN", (r) => (r.hosts.nuc2.lan.address = "10.0.0.2"), "hosts.nuc2.lan.address", "not a host address in hosts.nuc2.lan.subnet"],
    ["one LAN address twice", (r) => (r.hosts.nuc2.lan.address = "172.17.1.10"), "hosts.nuc2.lan.address", "already nuc1's LAN address"],
    [
      "a LAN apart from the other host's",
      (r) => (r.hosts.nuc2.lan = { interface: "eno1", subnet: "10.0.0.0/24", address: "10.0.0.2" }),
      "hosts.nuc2.lan.address",
      "not on nuc1's LAN 172.17.1.0/24",
    ],
    ["the same machine twice", (r) => (r.hosts.nuc2 = { type: "local", lan: { ...LAN, address: "172.17.1.11" } }), "hosts.nuc2", "same VM host as hosts.nuc1"],
    ["overlapping subnets", (r) => (r.hosts.nuc2.network = { cidr: "172.17.2.0/25" }), "hosts.nuc2.network.cidr", "overlaps nuc1's subnet 172.17.2.0/26"],
    [
      "a subnet outside network.cidr",
      (r) => (r.hosts.nuc2.network = { cidr: "172.17.3.0/24" }),
      "hosts.nuc2.network.cidr",
      "outside network.cidr 172.17.2.0/24",
    ],
    [
      "a LAN overlapping a host's share",
      (r) => (r.hosts.nuc2.lan = { ...LAN, subnet: "172.17.2.64/26", address: "172.17.2.70" }),
      "network.cidr",
      "overlaps hosts.nuc2.lan.subnet",
    ],
    ["a network too small to share", (r) => (r.network.cidr = "172.17.2.0/29"), "network.cidr", "too small to share among 2 hosts"],
    ["a bad entry name", (r) => (r.hosts = { NUC: r.hosts.nuc1 }), "hosts.NUC", "not a host entry name"],
    ["an entry name of digits only", (r) => (r.hosts = { "2": r.hosts.nuc1 }), "hosts.2", "starting with a letter"],
    ["no network", (r) => delete r.network, "network", "is required"],
    ["a network of null", (r) => (r.network = null), "network", "expected a mapping"],
    [
      "two local entries (a namespace is no other machine)",
      (r) => (r.hosts.nuc2 = { type: "local", netns: "lab", lan: { ...LAN, address: "172.17.1.11" } }),
      "hosts.nuc2",
      "same VM host as hosts.nuc1",
    ],
    ["a host without its LAN", (r) => delete r.hosts.nuc2.lan, "hosts.nuc2.lan", "is required"],
    ["hosts that is not a mapping", (r) => (r.hosts = "nuc1"), "hosts", "expected a mapping"],
  ])("refuses %s, naming the key and the fix", (_what, edit, key, message) => {
    const problems = problemsWith(edit);
    expect(problems, problems.join("\n")).toEqual(expect.arrayContaining([expect.stringContaining(`vm-cluster:${key}: `)]));
    expect(problems.find((p) => p.startsWith(`vm-cluster:${key}: `))).toContain(message);
  });

  it("refuses vms[].host on a single host", () => {
    const raw = baseRaw() as Record<string, any>;
    raw.vms[0].host = "nuc1";
    const result = parseClusterConfig(raw, fakeIo());
    expect(result.ok ? [] : result.problems).toEqual([
      expect.stringMatching(/^vm-cluster:vms\[0\]\.host: names an entry of hosts, and this stack has a single host/),
    ]);
  });
});

describe("README's Several VM hosts", () => {
  it("shows a stack config that is valid as it stands (but its host key placeholder), with the subnets it names", () => {
    const section = readFileSync(README, "utf8").split("\n## Several VM hosts\n")[1]!.split("\n## ")[0]!;
    const block = /```yaml\n([^]*?)```/.exec(section)![1]!.replace('"SHA256:..."', ED25519_FINGERPRINT);
    const config = (parseYaml(block) as { config: Record<string, unknown> }).config;
    const raw = Object.fromEntries(Object.entries(config).map(([key, value]) => [key.replace(/^vm-cluster:/, ""), value]));
    const model = parseOk({ ...raw, sshPublicKey: { file: "~/.ssh/anemoi_rsa.pub" } });
    expect(model.sites.map((site) => site.network.cidr)).toEqual(["172.17.2.0/26", "172.17.2.64/26"]);
    expect(section).toContain("nuc1 172.17.2.0/26, nuc2 172.17.2.64/26");
  });
});

describe("hosts: the resources", () => {
  it("gives each host its own checks, pool, network, base image, firewall and routes, named after it", async () => {
    const model = parseOk(twoHosts());
    const { resources } = await buildCluster(model);
    const byType = (suffix: string) => [...resources.values()].filter((r) => r.type.endsWith(suffix)).map((r) => r.name);
    expect(byType(":VmHost")).toEqual(["anemoi-nuc1-host", "anemoi-nuc2-host"]);
    expect(byType(":StoragePool")).toEqual(["anemoi-nuc1-pool", "anemoi-nuc2-pool"]);
    expect(byType(":NatNetwork")).toEqual(["anemoi-nuc1-network", "anemoi-nuc2-network"]);
    expect(byType(":BaseImage")).toEqual(["anemoi-nuc1-base-image", "anemoi-nuc2-base-image"]);
    expect(byType(":FirewallRules")).toEqual(["anemoi-nuc1-firewall", "anemoi-nuc2-firewall"]);
    expect(byType(":PeerRoutes")).toEqual(["anemoi-nuc1-routes", "anemoi-nuc2-routes"]);
    // VMs keep the names they have on a single host: moving one is a replace of the same resources.
    expect(byType("index:VirtualMachine")).toEqual(["anemoi-boreas", "anemoi-zephyrus", "anemoi-notus", "anemoi-eurus"]);

    const props = (name: string) => resources.get(name)!.props as Record<string, any>;
    // A host's network reserves its own VMs' addresses and answers every VM's name.
    const nuc2Net = props("anemoi-nuc2-network");
    expect(await value(nuc2Net.hosts)).toEqual([
      expect.objectContaining({ name: "notus", ip: "172.17.2.66" }),
      expect.objectContaining({ name: "eurus", ip: "172.17.2.67" }),
    ]);
    expect((await value(nuc2Net.dnsHosts)).map((h: { ip: string }) => h.ip)).toEqual(["172.17.2.2", "172.17.2.3", "172.17.2.66", "172.17.2.67"]);
    // Each routes the other's share through the other's LAN address and leaves it unmasqueraded.
    expect(props("anemoi-nuc1-routes").routes).toEqual([{ cidr: "172.17.2.64/26", via: "172.17.1.11" }]);
    expect(props("anemoi-nuc2-routes").routes).toEqual([{ cidr: "172.17.2.0/26", via: "172.17.1.10" }]);
    expect(props("anemoi-nuc2-firewall").peerCidrs).toEqual(["172.17.2.0/26"]);
    // A VM is on its own host's pool and network; nothing of one host waits on the other's.
    expect([...resources.get("anemoi-notus-disk")!.sources.get("pool")!]).toEqual(["anemoi-nuc2-pool"]);
    const nuc1 = [...resources.keys()].filter((n) => n.startsWith("anemoi-nuc1-"));
    for (const name of ["anemoi-nuc2-pool", "anemoi-nuc2-network", "anemoi-nuc2-base-image"]) {
      expect(
        [...resources.get(name)!.deps].filter((d) => nuc1.includes(d)),
        name,
      ).toEqual([]);
    }
  });
});

describe("hosts: the hand-off", () => {
  const keys = { boreas: [ED25519_PUBLIC_KEY], zephyrus: [ED25519_PUBLIC_KEY], notus: [ED25519_PUBLIC_KEY], eurus: [ED25519_PUBLIC_KEY] };

  it("reaches every VM directly when this machine is one of the hosts (its routes reach the others)", () => {
    const model = parseOk(twoHosts());
    expect(sshConfig(model, { knownHostsPath: "/k" })).not.toContain("ProxyJump");
    expect(ansibleInventory(model, { knownHostsPath: "/k" })).not.toContain("ProxyCommand");
  });

  it("jumps through the VM's host when no host is this machine, checking that host's key strictly", () => {
    const raw = twoHosts();
    raw.hosts.nuc1 = { ...SSH, host: "nuc1.example", port: 2222, hostKey: `nuc1.example ${ED25519_PUBLIC_KEY}`, lan: raw.hosts.nuc1.lan };
    const model = parseOk(raw);
    const config = sshConfig(model, { knownHostsPath: "/my dir/kh", identityFile: "~/.ssh/anemoi_rsa" });
    expect(config).toContain("Host boreas boreas.anemoi.internal\n  HostName 172.17.2.2\n  User root\n  ProxyJump anemoi-host-nuc1\n");
    expect(config).toContain("Host notus notus.anemoi.internal\n  HostName 172.17.2.66\n  User root\n  ProxyJump anemoi-host-nuc2\n");
    expect(config).toContain(
      'Host anemoi-host-nuc1\n  HostName nuc1.example\n  Port 2222\n  User root\n  IdentityFile ~/.ssh/id_ed25519\n  UserKnownHostsFile "/my dir/kh"\n  StrictHostKeyChecking yes',
    );
    // nuc2 was pinned by fingerprint only: the user's own known_hosts must have it, still strictly.
    expect(config).toContain(
      "Host anemoi-host-nuc2\n  HostName nuc2.example\n  Port 22\n  User root\n  IdentityFile ~/.ssh/id_ed25519\n  StrictHostKeyChecking yes",
    );
    const lines = knownHosts(model, keys).trimEnd().split("\n");
    expect(lines.at(-1)).toBe(`[nuc1.example]:2222 ${ED25519_PUBLIC_KEY.split(" ").slice(0, 2).join(" ")}`);
    expect(lines).toHaveLength(5);
    const boreas = ansibleInventory(model, { knownHostsPath: "/my dir/kh" })
      .split("\n")
      .find((l) => l.startsWith("boreas "))!;
    expect(boreas).toContain(
      `ansible_ssh_common_args='-o UserKnownHostsFile="/my dir/kh" -o StrictHostKeyChecking=yes -o ProxyCommand="ssh -W %h:%p -p 2222 -i ~/.ssh/id_ed25519 -o UserKnownHostsFile=/my\\ dir/kh -o StrictHostKeyChecking=yes root@nuc1.example"'`,
    );
  });
});
