import { describe, expect, it } from "vitest";
import { type ClusterModel, parseClusterConfig } from "../../model";
import { parse as parseYaml } from "yaml";
import { ansibleInventory, ansibleInventoryYaml, consoleCommand, knownHosts, sshCommand, sshConfig, staticRouteCommand } from "../../outputs";
import { baseRaw, ed25519Line, fakeIo } from "./fixtures/cluster-config";

const model: ClusterModel = (() => {
  const result = parseClusterConfig(baseRaw(), fakeIo());
  if (!result.ok) throw new Error(result.problems.join("\n"));
  return result.model;
})();
const expectedHosts = [
  ["boreas", "172.17.2.2"],
  ["zephyrus", "172.17.2.3"],
  ["notus", "172.17.2.4"],
  ["eurus", "172.17.2.5"],
];

/** A minimal INI reader as Ansible uses it: `[section]` headers, `#`/`;` comments, other lines kept. */
function iniSections(text: string): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of text.split("\n").map((l) => l.trim())) {
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) sections.set(header[1]!, (current = []));
    else if (current) current.push(line);
    else throw new Error(`line outside any section: ${line}`);
  }
  return sections;
}

/** ssh_config as OpenSSH reads it: a `Host` line starts a block of `Keyword value` lines. */
function sshBlocks(text: string): Map<string, Map<string, string>> {
  const blocks = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const line of text.split("\n").map((l) => l.trim())) {
    if (line === "" || line.startsWith("#")) continue;
    const [keyword = "", ...rest] = line.split(/\s+/);
    const value = rest.join(" ");
    if (keyword === "Host") blocks.set(value, (current = new Map()));
    else if (current) current.set(keyword, value);
    else throw new Error(`option before any Host line: ${line}`);
  }
  return blocks;
}

describe("ansibleInventory", () => {
  it("puts every VM in a group named after the cluster, as root on its address", () => {
    const sections = iniSections(ansibleInventory(model, { knownHostsPath: "/work/out/known_hosts" }));
    expect([...sections.keys()]).toEqual(["anemoi", "anemoi:vars"]);
    expect(sections.get("anemoi")).toEqual(expectedHosts.map(([name, ip]) => `${name} ansible_host=${ip} ansible_user=root`));
    expect(sections.get("anemoi:vars")).toEqual([
      "ansible_python_interpreter=/usr/bin/python3",
      "ansible_ssh_common_args='-o UserKnownHostsFile=/work/out/known_hosts -o StrictHostKeyChecking=yes'",
    ]);
  });

  it("leaves SSH options to Ansible's defaults when no known_hosts is given", () => {
    const vars = iniSections(ansibleInventory(model)).get("anemoi:vars")!;
    expect(vars).toEqual(["ansible_python_interpreter=/usr/bin/python3"]);
  });

  it("names the private key when given, quoting a path with spaces for Ansible's shell-like split", () => {
    const vars = iniSections(ansibleInventory(model, { identityFile: "~/.ssh/anemoi_rsa", knownHostsPath: "/my dir/known_hosts" })).get("anemoi:vars")!;
    expect(vars).toContain("ansible_ssh_private_key_file=~/.ssh/anemoi_rsa");
    expect(vars).toContain(`ansible_ssh_common_args='-o UserKnownHostsFile="/my dir/known_hosts" -o StrictHostKeyChecking=yes'`);
  });
});

describe("Ansible groups (Kubernetes-lab shape)", () => {
  const lab: ClusterModel = (() => {
    const raw: Record<string, any> = baseRaw();
    raw.vms[0].groups = ["kube_control_plane", "etcd"];
    raw.vms[1].groups = ["kube_node"];
    raw.vms[2].groups = ["kube_node", "etcd"];
    raw.inventory = { children: { k8s_cluster: ["kube_control_plane", "kube_node"], etcd: ["kube_control_plane"] } };
    const result = parseClusterConfig(raw, fakeIo());
    if (!result.ok) throw new Error(result.problems.join("\n"));
    return result.model;
  })();

  it("gives each VM group a section and each group of groups a :children section, after the cluster's own", () => {
    const sections = iniSections(ansibleInventory(lab));
    expect([...sections.keys()]).toEqual(["anemoi", "anemoi:vars", "kube_control_plane", "etcd", "kube_node", "k8s_cluster:children", "etcd:children"]);
    expect(sections.get("etcd")).toEqual(["boreas", "notus"]);
    expect(sections.get("kube_node")).toEqual(["zephyrus", "notus"]);
    expect(sections.get("k8s_cluster:children")).toEqual(["kube_control_plane", "kube_node"]);
    expect(sections.get("anemoi")).toHaveLength(4);
  });

  it("writes the same inventory in Ansible's YAML format", () => {
    const yaml = ansibleInventoryYaml(lab, { knownHostsPath: "/my dir/known_hosts", identityFile: "~/.ssh/anemoi_rsa" });
    const all = (parseYaml(yaml) as any).all.children;
    expect(Object.keys(all)).toEqual(["anemoi", "kube_control_plane", "etcd", "kube_node", "k8s_cluster"]);
    expect(all.anemoi.hosts.zephyrus).toEqual({ ansible_host: "172.17.2.3", ansible_user: "root" });
    expect(all.anemoi.vars).toEqual({
      ansible_python_interpreter: "/usr/bin/python3",
      ansible_ssh_private_key_file: "~/.ssh/anemoi_rsa",
      ansible_ssh_common_args: '-o UserKnownHostsFile="/my dir/known_hosts" -o StrictHostKeyChecking=yes',
    });
    // etcd has hosts of its own and a child group.
    expect(all.etcd).toEqual({ hosts: { boreas: null, notus: null }, children: { kube_control_plane: null } });
    expect(all.k8s_cluster).toEqual({ children: { kube_control_plane: null, kube_node: null } });
  });

  it("has only the cluster's group without groups in the config", () => {
    expect(Object.keys((parseYaml(ansibleInventoryYaml(model)) as any).all.children)).toEqual(["anemoi"]);
  });
});

describe("sshConfig", () => {
  it("writes one strict Host block per VM", () => {
    const blocks = sshBlocks(sshConfig(model, { knownHostsPath: "/work/out/known_hosts", identityFile: "~/.ssh/anemoi_rsa" }));
    // By short name and by FQDN alike.
    expect([...blocks.keys()]).toEqual(expectedHosts.map(([name]) => `${name} ${name}.anemoi.internal`));
    for (const [name, ip] of expectedHosts) {
      expect(Object.fromEntries(blocks.get(`${name} ${name}.anemoi.internal`)!)).toEqual({
        HostName: ip,
        User: "root",
        IdentityFile: "~/.ssh/anemoi_rsa",
        UserKnownHostsFile: "/work/out/known_hosts",
        StrictHostKeyChecking: "yes",
      });
    }
  });

  it("omits the identity when none is given and quotes paths with spaces", () => {
    const blocks = sshBlocks(sshConfig(model, { knownHostsPath: "/my dir/known_hosts" }));
    const boreas = blocks.get("boreas boreas.anemoi.internal")!;
    expect(boreas.has("IdentityFile")).toBe(false);
    expect(boreas.get("UserKnownHostsFile")).toBe('"/my dir/known_hosts"');
  });

  it("refuses a path that ssh_config cannot carry", () => {
    expect(() => sshConfig(model, { knownHostsPath: '/tmp/"x"' })).toThrow(/quotes/);
  });
});

describe("knownHosts", () => {
  const keys = Object.fromEntries(expectedHosts.map(([name], i) => [name!, [ed25519Line(i + 1, `root@${name}`)]]));

  it("writes `<ip>,<name>,<fqdn> <type> <base64>` per host key, without the comment", () => {
    const lines = knownHosts(model, keys).trimEnd().split("\n");
    expect(lines).toHaveLength(4);
    for (const [i, [name, ip]] of expectedHosts.entries()) {
      const [hosts, type, base64, ...rest] = lines[i]!.split(" ");
      expect(hosts).toBe(`${ip},${name},${name}.anemoi.internal`);
      expect(`${type} ${base64}`).toBe(ed25519Line(i + 1));
      expect(rest).toEqual([]);
    }
  });

  it("keeps every key of a VM", () => {
    const text = knownHosts(model, { ...keys, notus: [ed25519Line(10), ed25519Line(11)] });
    expect(text.split("\n").filter((line) => line.startsWith("172.17.2.4,notus,notus.anemoi.internal "))).toHaveLength(2);
  });

  it("refuses missing, unknown and malformed keys", () => {
    const { eurus: _eurus, ...withoutEurus } = keys;
    expect(() => knownHosts(model, withoutEurus)).toThrow(/no host key for VM eurus/);
    expect(() => knownHosts(model, { ...keys, ghost: [ed25519Line(9)] })).toThrow(/ghost/);
    expect(() => knownHosts(model, { ...keys, boreas: ["ssh-ed25519 AAAA"] })).toThrow(/boreas/);
  });
});

describe("commands", () => {
  it("routes the cluster network through the host's LAN address", () => {
    const site = model.sites[0]!;
    expect(staticRouteCommand({ ...site, lan: { ...site.lan, address: "172.17.1.4" } })).toBe("ip route add 172.17.2.0/24 via 172.17.1.4");
    expect(staticRouteCommand(site)).toBe("ip route add 172.17.2.0/24 via <vm-host-lan-ip>");
  });

  it("connects as root with strict host key checking", () => {
    const boreas = model.vms[0]!;
    expect(sshCommand(boreas, { identityFile: "~/.ssh/anemoi_rsa", knownHostsPath: "/work/out/known_hosts" })).toBe(
      // ssh expands the quoted ~ itself.
      "ssh -i '~/.ssh/anemoi_rsa' -o UserKnownHostsFile=/work/out/known_hosts -o StrictHostKeyChecking=yes root@172.17.2.2",
    );
    expect(sshCommand(boreas)).toBe("ssh root@172.17.2.2");
    expect(sshCommand(boreas, { knownHostsPath: "/my dir/it's" })).toContain(`'UserKnownHostsFile=/my dir/it'\\''s'`);
  });

  it("opens the serial console of the cluster's domain", () => {
    expect(consoleCommand(model.vms[1]!)).toBe("virsh -c qemu:///system console anemoi-zephyrus");
  });
});
