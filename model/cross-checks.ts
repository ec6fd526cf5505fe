// Rules that span config keys: addresses against the network, uniqueness across VMs,
// the LAN against the cluster network. Each rule runs only on sections that parsed
// cleanly (`clean`), so a broken section never hides the problems of the others.
import { stableMac } from "./mac";
import { type Ipv4Cidr, broadcastAddress, cidrContains, cidrsOverlap, formatCidr, formatIpv4, networkAddress, parseCidr, parseIpv4 } from "./ipv4";
import type { ClusterConfig } from "./schema";

export interface ConfigProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
  /** Too many VMs: the address problems of the VMs from this index on are its echo, and left out. */
  readonly explainsVmAddressesFrom?: number;
}

type Clean = (...path: (string | number)[]) => boolean;
type Vm = ClusterConfig["vms"][number];

export function crossCheck(config: ClusterConfig, clean: Clean): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  // The bridge name plays no part in the address rules.
  const addressesClean = ["cidr", "gateway", "dhcpStart", "dhcpEnd"].every((key) => clean("network", key));
  const network = addressesClean ? parseCidr(config.network.cidr) : undefined;
  if (network) problems.push(...checkNetwork(config.network, network));
  if (network && clean("lan")) problems.push(...checkLan(config, network, clean("network", "bridge")));

  // Field by field, so a VM with a bad disk size still has its address checked.
  const vms = (Array.isArray(config.vms) ? config.vms : []).map((vm, index) => ({ vm, index }));
  const withClean = (key: keyof Vm) => vms.filter(({ index }) => clean("vms", index, key));
  if (network) {
    const room = vmRoom(network);
    if (vms.length > room) {
      const larger = { ...network, prefix: Math.max(network.prefix - 1, 0) };
      problems.push({
        path: ["vms"],
        message:
          `${vms.length} VMs do not fit network.cidr ${formatCidr(network)}: a /${network.prefix} holds at most ${room} VMs (its host addresses less the gateway); ` +
          `give a larger network.cidr (a /${larger.prefix} holds ${vmRoom(larger)}) or fewer VMs`,
        explainsVmAddressesFrom: room,
      });
    }
  }
  if (network) {
    const gateway = parseIpv4(config.network.gateway);
    for (const { vm, index } of withClean("ip")) {
      const problem = addressProblem(vm.ip, network, "a VM", gateway);
      if (problem) problems.push({ path: ["vms", index, "ip"], message: problem });
    }
  }
  const nameProblems = duplicates(withClean("name"), "name", (vm) => vm.name, "name");
  problems.push(...nameProblems, ...duplicates(withClean("ip"), "ip", (vm) => vm.ip, "address"));
  // A derived MAC needs the cluster and VM names; configured ones are compared regardless.
  // A repeated name repeats its derived MAC too, which the name problem already covers.
  const repeatedName = new Set(nameProblems.map((problem) => problem.path[1]));
  const macOf = (vm: Vm, index: number) =>
    vm.mac ?? (clean("cluster") && clean("vms", index, "name") && !repeatedName.has(index) ? stableMac(config.cluster, vm.name) : undefined);
  problems.push(...duplicates(withClean("mac"), "mac", macOf, "MAC"));
  if (clean("classes")) problems.push(...checkClasses(config, withClean("class")));
  for (const { vm, index } of withClean("dataDisks")) {
    const seen = new Map<string, number>();
    vm.dataDisks.forEach((disk, i) => {
      const first = seen.get(disk.name);
      if (first === undefined) seen.set(disk.name, i);
      else
        problems.push({
          path: ["vms", index, "dataDisks", i, "name"],
          message: `"${disk.name}" is already the name of dataDisks[${first}]; each disk of a VM needs its own`,
        });
    });
  }
  problems.push(...checkGroups(config, clean, withClean("groups")));
  return problems;
}

function checkClasses(config: ClusterConfig, vms: readonly { vm: Vm; index: number }[]): ConfigProblem[] {
  const known = Object.keys(config.classes);
  return vms
    .filter(({ vm }) => vm.class !== undefined && !Object.hasOwn(config.classes, vm.class))
    .map(({ vm, index }) => ({
      path: ["vms", index, "class"],
      message: `there is no class "${vm.class}" in classes; ${known.length === 0 ? "define it there" : `define it there or use one of ${known.join(", ")}`}`,
    }));
}

/**
 * The inventory's groups against each other: a group may not be the cluster's own group or a VM's
 * name (Ansible would merge or confuse them), and every child a children group lists must exist,
 * without a group containing itself.
 */
function checkGroups(config: ClusterConfig, clean: Clean, vms: readonly { vm: Vm; index: number }[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const vmNames = new Set((Array.isArray(config.vms) ? config.vms : []).map((vm) => vm?.name));
  const clash = (group: string) =>
    clean("cluster") && group === config.cluster
      ? `"${group}" is the cluster's own group of all its VMs; choose another name`
      : vmNames.has(group)
        ? `"${group}" is the name of a VM; Ansible needs groups and hosts apart, choose another name`
        : undefined;
  const vmGroups = new Set<string>();
  for (const { vm, index } of vms) {
    vm.groups.forEach((group, i) => {
      vmGroups.add(group);
      const problem = clash(group);
      if (problem !== undefined) problems.push({ path: ["vms", index, "groups", i], message: problem });
    });
  }
  if (!clean("inventory", "children") || vms.length !== (Array.isArray(config.vms) ? config.vms.length : 0)) return problems;
  const children = config.inventory.children;
  for (const [parent, members] of Object.entries(children)) {
    const problem = clash(parent);
    if (problem !== undefined) problems.push({ path: ["inventory", "children", parent], message: problem });
    members.forEach((member, i) => {
      if (vmGroups.has(member) || Object.hasOwn(children, member)) return;
      const known = [...new Set([...vmGroups, ...Object.keys(children)])].filter((g) => g !== parent);
      problems.push({
        path: ["inventory", "children", parent, i],
        message: `no VM is in group "${member}" and it is no children group; ${known.length === 0 ? "put a VM in it with vms[].groups" : `known groups are ${known.join(", ")}`}`,
      });
    });
  }
  const cycle = groupCycle(children);
  if (cycle !== undefined) {
    problems.push({
      path: ["inventory", "children", cycle[0]!],
      message: `groups contain each other: ${cycle.join(" → ")}; Ansible refuses a group inside itself`,
    });
  }
  return problems;
}

/** The first chain of children groups that leads back to where it started, if any. */
function groupCycle(children: Readonly<Record<string, readonly string[]>>): string[] | undefined {
  const done = new Set<string>();
  const visit = (group: string, chain: string[]): string[] | undefined => {
    if (chain.includes(group)) return [...chain.slice(chain.indexOf(group)), group];
    if (done.has(group) || !Object.hasOwn(children, group)) return undefined;
    for (const member of children[group]!) {
      const found = visit(member, [...chain, group]);
      if (found) return found;
    }
    done.add(group);
    return undefined;
  };
  for (const group of Object.keys(children)) {
    const found = visit(group, []);
    if (found) return found;
  }
  return undefined;
}

function checkNetwork(network: ClusterConfig["network"], cidr: Ipv4Cidr): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const at = (key: string, message: string | undefined) => {
    if (message !== undefined) problems.push({ path: ["network", key], message });
  };
  const gateway = parseIpv4(network.gateway)!;
  const start = parseIpv4(network.dhcpStart)!;
  const end = parseIpv4(network.dhcpEnd)!;
  at("gateway", addressProblem(network.gateway, cidr, "the gateway (the host's address on the bridge)"));
  at("dhcpStart", addressProblem(network.dhcpStart, cidr, "the DHCP range"));
  at("dhcpEnd", addressProblem(network.dhcpEnd, cidr, "the DHCP range"));
  if (start > end) {
    at("dhcpEnd", `${network.dhcpEnd} comes before dhcpStart ${network.dhcpStart}; the range is reversed, swap the two`);
  } else if (gateway >= start && gateway <= end) {
    at("dhcpStart", `the DHCP range ${network.dhcpStart}-${network.dhcpEnd} includes the gateway ${network.gateway}; start the range after it`);
  }
  return problems;
}

function checkLan(config: ClusterConfig, network: Ipv4Cidr, bridgeClean: boolean): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const lan = parseCidr(config.lan.subnet)!;
  if (cidrsOverlap(lan, network)) {
    problems.push({
      path: ["network", "cidr"],
      message: `${config.network.cidr} overlaps lan.subnet ${config.lan.subnet}; give the cluster a subnet the LAN does not use, so it can be routed`,
    });
  }
  if (bridgeClean && config.network.bridge === config.lan.interface) {
    problems.push({
      path: ["network", "bridge"],
      message: `"${config.network.bridge}" is the LAN interface (lan.interface); the cluster needs a bridge of its own, or leave bridge out`,
    });
  }
  return problems;
}

/** How many VMs the network has addresses for: all but the network, broadcast and gateway addresses. */
export function vmRoom(cidr: Ipv4Cidr): number {
  return Math.max(broadcastAddress(cidr) - networkAddress(cidr) - 2, 0);
}

/** Why `text` cannot be a host address in `cidr`, phrased for `role`; undefined when it can. */
function addressProblem(text: string, cidr: Ipv4Cidr, role: string, gateway?: number): string | undefined {
  const address = parseIpv4(text)!;
  const first = formatIpv4(networkAddress(cidr) + 1);
  const last = formatIpv4(broadcastAddress(cidr) - 1);
  if (!cidrContains(cidr, address)) return `${text} is outside network.cidr ${formatCidr(cidr)}; ${role} needs an address from ${first} to ${last}`;
  if (address === networkAddress(cidr)) return `${text} is the network address of ${formatCidr(cidr)}; use one from ${first} to ${last}`;
  if (address === broadcastAddress(cidr)) return `${text} is the broadcast address of ${formatCidr(cidr)}; use one from ${first} to ${last}`;
  return address === gateway ? `${text} is the gateway (network.gateway); give the VM another address` : undefined;
}

/** One problem per later VM repeating an earlier VM's value. */
function duplicates(
  vms: readonly { vm: Vm; index: number }[],
  key: string,
  valueOf: (vm: Vm, index: number) => string | undefined,
  what: string,
): ConfigProblem[] {
  const seen = new Map<string, { vm: Vm; index: number }>();
  const problems: ConfigProblem[] = [];
  for (const entry of vms) {
    const value = valueOf(entry.vm, entry.index);
    if (value === undefined) continue;
    const first = seen.get(value);
    if (!first) {
      seen.set(value, entry);
      continue;
    }
    const owner = key === "name" ? `vms[${first.index}]` : `vms[${first.index}] (${first.vm.name})`;
    const fix = key === "mac" && entry.vm.mac === undefined ? "set mac on one of them" : "each VM needs its own";
    problems.push({ path: ["vms", entry.index, key], message: `${value} is already the ${what} of ${owner}; ${fix}` });
  }
  return problems;
}
