// The component tree of a cluster, with Pulumi mocks: what is created, under which parent, and
// which resource each waits for (by data or dependsOn), so destroy runs the seed's order backwards.
import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { loadClusterModel } from "../../components";
import { sha512Crypt } from "../../secrets/sha512-crypt";
import type { ClusterModel } from "../../model";
import { fakeIo } from "./fixtures/cluster-config";
import { MOCK_CONSOLE_PASSWORD, anemoiConfig, buildCluster, resolve, type Recorded } from "./fixtures/mock-cluster";

/** Everything `name` waits for, directly or through others. */
function closure(resources: Map<string, Recorded>, name: string): Set<string> {
  const seen = new Set<string>();
  const visit = (n: string) => {
    for (const d of resources.get(n)?.deps ?? []) {
      if (!seen.has(d)) {
        seen.add(d);
        visit(d);
      }
    }
  };
  visit(name);
  return seen;
}

describe("Cluster component tree (anemoi)", () => {
  let resources: Map<string, Recorded>;
  let outputs: Record<string, unknown>;
  let model: ClusterModel;

  beforeAll(async () => {
    model = loadClusterModel(anemoiConfig(), fakeIo());
    ({ resources, outputs } = await buildCluster(model));
  });

  it("has the host, pool, network, base image, four VMs and the firewall, each with stable type tokens", () => {
    const byType = (suffix: string) => [...resources.values()].filter((r) => r.type.endsWith(suffix)).map((r) => r.name);
    expect(byType(":VmHost")).toEqual(["anemoi-host"]);
    expect(byType(":StoragePool")).toEqual(["anemoi-pool"]);
    expect(byType(":NatNetwork")).toEqual(["anemoi-network"]);
    expect(byType(":BaseImage")).toEqual(["anemoi-base-image"]);
    expect(byType("index:VirtualMachine")).toEqual(["anemoi-boreas", "anemoi-zephyrus", "anemoi-notus", "anemoi-eurus"]);
    expect(byType(":Domain")).toHaveLength(4);
    expect(byType(":Disk")).toHaveLength(4);
    expect(byType(":Seed")).toHaveLength(4);
    expect(byType(":Readiness")).toHaveLength(4);
    expect(byType(":GuestSettings")).toHaveLength(4);
    expect(byType(":KnownHostsFile")).toEqual(["anemoi-known-hosts"]);
    expect(byType(":FirewallRules")).toEqual(["anemoi-firewall"]);
    expect(resources.get("anemoi-host")!.type).toBe("vm-cluster:index:VmHost");
    expect(resources.get("anemoi-boreas")!.type).toBe("vm-cluster:index:VirtualMachine");
  });

  it("proves its volumes by the pool's recorded owner, which a stack rename leaves as the pool's UUID has it", () => {
    for (const volume of ["anemoi-base-image", "anemoi-boreas-disk", "anemoi-boreas-seed"]) {
      expect([...(resources.get(volume)!.sources.get("owner") ?? [])], volume).toEqual(["anemoi-pool"]);
    }
    // The domain and network are marked with the stack's owner itself.
    expect(resources.get("anemoi-boreas-domain")!.sources.get("owner")?.size ?? 0).toBe(0);
  });

  it("parents every child to its component", () => {
    expect(resources.get("anemoi-pool")!.parent).toBe("anemoi");
    expect(resources.get("anemoi-host-virtualization-check")!.parent).toBe("anemoi-host");
    expect(resources.get("anemoi-boreas-domain")!.parent).toBe("anemoi-boreas");
  });

  it("checks virtualization before any other host change, and prepares the host in the seed's order", () => {
    expect(resources.get("anemoi-host-virtualization-check")!.deps.size).toBe(0);
    expect(closure(resources, "anemoi-host-packages")).toContain("anemoi-host-virtualization-check");
    expect(closure(resources, "anemoi-host-libvirt-daemon")).toContain("anemoi-host-packages");
    expect(closure(resources, "anemoi-host-ip-forward")).toContain("anemoi-host-libvirt-daemon");
  });

  it("puts everything on the host after host preparation", () => {
    for (const name of ["anemoi-pool", "anemoi-network", "anemoi-base-image", "anemoi-boreas-disk", "anemoi-boreas-domain", "anemoi-firewall"]) {
      const deps = closure(resources, name);
      expect(deps, name).toContain("anemoi-host-ip-forward");
      expect(deps, name).toContain("anemoi-host-virtualization-check");
    }
  });

  it("has each edge of the seed's order: image on pool, domain on network, disk and seed, firewall on network and VMs", () => {
    expect(resources.get("anemoi-base-image")!.deps).toContain("anemoi-pool");
    expect(resources.get("anemoi-boreas-disk")!.deps).toContain("anemoi-base-image");
    const domain = resources.get("anemoi-boreas-domain")!.deps;
    for (const dep of ["anemoi-network", "anemoi-boreas-disk", "anemoi-boreas-seed"]) expect(domain).toContain(dep);
    expect(resources.get("anemoi-boreas-ready")!.deps).toContain("anemoi-boreas-domain");
    // Settings changed later are applied to a guest that is up, after its disk grew.
    expect(resources.get("anemoi-boreas-settings")!.deps).toContain("anemoi-boreas-ready");
    expect(closure(resources, "anemoi-boreas-settings")).toContain("anemoi-boreas-disk");
    const firewall = resources.get("anemoi-firewall")!.deps;
    expect(firewall).toContain("anemoi-network");
    for (const vm of ["boreas", "zephyrus", "notus", "eurus"]) expect(firewall).toContain(`anemoi-${vm}-ready`);
  });

  it("gives each VM its reserved MAC and IP in both the network and the domain", () => {
    const hosts = resources.get("anemoi-network")!.props.hosts as { name: string; mac: string; ip: string }[];
    const boreas = model.vms.find((vm) => vm.name === "boreas")!;
    expect(hosts).toContainEqual({ name: "boreas", mac: boreas.mac, ip: "172.17.2.2" });
    expect(resources.get("anemoi-boreas-domain")!.props.mac).toBe(boreas.mac);
  });

  it("outputs each VM, an inventory, ssh_config, known_hosts with the VMs' own host keys, and the LAN route", () => {
    const vms = outputs.vms as Record<string, { ip: string; hostPublicKey: string; ssh: string }>;
    expect(Object.keys(vms)).toEqual(["boreas", "zephyrus", "notus", "eurus"]);
    expect(vms.boreas.ip).toBe("172.17.2.2");
    expect(outputs.knownHosts).toContain(vms.boreas.hostPublicKey.split(" ").slice(0, 2).join(" "));
    expect(outputs.inventory).toMatch(/boreas ansible_host=172\.17\.2\.2/);
    expect(outputs.sshConfig).toMatch(/Host boreas[\s\S]*HostName 172\.17\.2\.2/);
    // The stack's key is ~/.ssh/anemoi_rsa.pub, not a default identity: `ssh -F` must name its private key.
    expect(outputs.sshConfig).toMatch(/Host boreas[\s\S]*IdentityFile ~\/\.ssh\/anemoi_rsa\n/);
    expect(outputs.inventory).toContain("ansible_ssh_private_key_file=~/.ssh/anemoi_rsa");
    expect(vms.boreas.ssh).toBe("ssh -i '~/.ssh/anemoi_rsa' root@172.17.2.2");
    expect(outputs.route).toContain("172.17.2.0/24");
  });
});

describe("the console password", () => {
  const userDataOf = async (resources: Map<string, Recorded>, vm: string) => {
    const userData = resources.get(`anemoi-${vm}-seed`)!.props.userData as pulumi.Output<string>;
    expect(await pulumi.isSecret(userData)).toBe(true);
    return parseYaml(await resolve(userData)) as { users: { name: string; lock_passwd: boolean; hashed_passwd?: string }[]; ssh_pwauth: boolean };
  };

  it("is off by default: no password resource, no output, root's password locked", async () => {
    const { cluster, resources } = await buildCluster(loadClusterModel(anemoiConfig(), fakeIo()));
    expect([...resources.values()].filter((r) => r.type.endsWith(":ConsolePassword"))).toEqual([]);
    expect(cluster.consolePassword).toBeUndefined();
    const root = (await userDataOf(resources, "boreas")).users[0];
    expect(root.lock_passwd).toBe(true);
    expect(root.hashed_passwd).toBeUndefined();
  });

  it("when enabled, is one resource for the cluster whose hash, not the password, each VM's user-data carries", async () => {
    const { cluster, resources } = await buildCluster(loadClusterModel(anemoiConfig({ "vm-cluster:consolePassword": true }), fakeIo()));
    const passwords = [...resources.values()].filter((r) => r.type.endsWith(":ConsolePassword"));
    expect(passwords.map((r) => [r.name, r.parent])).toEqual([["anemoi-console-password", "anemoi"]]);
    for (const vm of ["boreas", "zephyrus", "notus", "eurus"]) {
      expect(resources.get(`anemoi-${vm}-seed`)!.deps, vm).toContain("anemoi-console-password");
      const doc = await userDataOf(resources, vm);
      expect(doc.users[0].lock_passwd, vm).toBe(false);
      expect(doc.users[0].hashed_passwd, vm).toMatch(/^\$6\$[^$]{16}\$/);
      expect(sha512Crypt(MOCK_CONSOLE_PASSWORD, doc.users[0].hashed_passwd!), vm).toBe(doc.users[0].hashed_passwd);
      expect(JSON.stringify(doc), vm).not.toContain(MOCK_CONSOLE_PASSWORD);
      expect(doc.ssh_pwauth, vm).toBe(false);
    }
    expect(await pulumi.isSecret(cluster.consolePassword!)).toBe(true);
    expect(await resolve(cluster.consolePassword!)).toBe(MOCK_CONSOLE_PASSWORD);
    // The other outputs stay readable.
    expect(await pulumi.isSecret(cluster.outputs)).toBe(false);
  });
});

describe("two clusters on one host", () => {
  it("use disjoint host-global names", async () => {
    const hostGlobal = async (cluster: string, cidr: string) => {
      const model = loadClusterModel(
        anemoiConfig({
          "vm-cluster:cluster": cluster,
          "vm-cluster:network": { cidr, gateway: cidr.replace(/0\/24$/, "1"), dhcpStart: cidr.replace(/0\/24$/, "2"), dhcpEnd: cidr.replace(/0\/24$/, "254") },
          "vm-cluster:vms": [{ name: "boreas", ip: cidr.replace(/0\/24$/, "2") }],
        }),
        fakeIo(),
      );
      const { resources } = await buildCluster(model);
      const names: string[] = [];
      for (const r of resources.values()) {
        for (const key of ["name", "bridge", "cluster"]) if (typeof r.props[key] === "string") names.push(`${r.type}:${key}=${r.props[key]}`);
      }
      return names;
    };
    const a = await hostGlobal("anemoi", "172.17.2.0/24");
    const b = await hostGlobal("zephyr", "172.17.3.0/24");
    const kinds = a.map((n) => n.split("=")[0].split(":").slice(-2).join(":")).sort();
    expect(kinds).toEqual([
      "BaseImage:name",
      "Disk:name",
      "Domain:name",
      "FirewallRules:cluster",
      "NatNetwork:bridge",
      "NatNetwork:name",
      "Seed:name",
      "StoragePool:name",
    ]);
    expect(a.filter((n) => b.includes(n))).toEqual([]);
  });
});

describe("a broken config", () => {
  it("whose value only looks like JSON is named by its key, beside the other problems", () => {
    let message = "";
    try {
      loadClusterModel(anemoiConfig({ "vm-cluster:cluster": "[anemoi", "vm-cluster:domainType": "xen" }), fakeIo());
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).not.toMatch(/SyntaxError|JSON/);
    expect(message).toMatch(/vm-cluster:cluster: "\[anemoi" is not a valid cluster name/);
    expect(message).toContain("vm-cluster:domainType");
  });

  it("fails before any resource exists, listing every problem with its key", () => {
    const broken = anemoiConfig({
      "vm-cluster:cluster": "Anemoi!",
      "vm-cluster:vms": [
        { name: "boreas", ip: "172.17.9.2" },
        { name: "boreas", ip: "172.17.2.3" },
      ],
      "vm-cluster:domainTyp": "qemu",
    });
    let message = "";
    try {
      loadClusterModel(broken, fakeIo());
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/nothing was changed/);
    expect(message).toContain("vm-cluster:cluster");
    expect(message).toContain("vm-cluster:vms[0].ip");
    expect(message).toMatch(/vm-cluster:vms\[1\]\.name|duplicate/);
    expect(message).toContain("domainTyp");
  });
});
