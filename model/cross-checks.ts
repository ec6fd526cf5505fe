// Rules that span config keys: addresses against the network, uniqueness across VMs,
// the LAN against the cluster network. Each rule runs only on sections that parsed
// cleanly (`clean`), so a broken section never hides the problems of the others.
import { stableMac } from "./mac";
import { type Ipv4Cidr, broadcastAddress, cidrContains, cidrsOverlap, formatCidr, formatIpv4, networkAddress, parseCidr, parseIpv4 } from "./ipv4";
import type { ClusterConfig } from "./schema";
import { type SiteConfig, siteAddresses, siteConfigs, siteNameOf, splitCidr } from "./sites";

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
  const vms = (Array.isArray(config.vms) ? config.vms : []).map((vm, index) => ({ vm, index }));
  const withClean = (key: keyof Vm) => vms.filter(({ index }) => clean("vms", index, key));
  problems.push(...checkHostKeys(config, clean, withClean("host")));
  const networkObject = typeof config.network === "object" && config.network !== null;
  const sites = clean("hosts") && clean("host") && networkObject ? siteConfigs(config) : [];
  // A site's addresses are judged when its network's keys parsed; its LAN when its lan did.
  const cidrClean = clean("network", "cidr");
  const networks = sites.map((site) => {
    const keysClean = ["cidr", "gateway", "dhcpStart", "dhcpEnd"].every((key) => clean(...site.networkPath, key));
    return keysClean && (cidrClean || !site.shared) ? parseCidr(site.network.cidr) : undefined;
  });
  sites.forEach((site, i) => {
    const network = networks[i];
    if (network) problems.push(...checkNetwork(site, network));
  });
  if (config.hosts !== undefined && cidrClean && clean("hosts")) problems.push(...checkShares(config, sites, networks));
  const lans = sites.map((site) => (site.lan !== undefined && clean(...site.lanPath) ? site.lan : undefined));
  sites.forEach((site, i) => {
    const lan = lans[i];
    if (lan !== undefined) problems.push(...checkLan(site, lan, sites, networks, clean("network", "bridge") ? config.network.bridge : undefined));
  });
  problems.push(...checkLanAddresses(sites, lans), ...sameMachines(sites));

  // Field by field, so a VM with a bad disk size still has its address checked.
  const siteOfVm = (vm: Vm) => sites.findIndex((site) => site.name === siteNameOf(config, vm));
  sites.forEach((site, i) => {
    const network = networks[i];
    if (!network) return;
    const own = vms.filter(({ vm, index }) => clean("vms", index, "host") && siteOfVm(vm) === i);
    const room = vmRoom(network);
    if (own.length > room) {
      const larger = { ...network, prefix: Math.max(network.prefix - 1, 0) };
      problems.push({
        path: sites.length > 1 ? [...site.hostPath] : ["vms"],
        message:
          `${own.length} VMs do not fit ${key(site.networkPath)}.cidr ${formatCidr(network)}: a /${network.prefix} holds at most ${room} VMs (its host addresses less the gateway); ` +
          `give a larger ${key(site.networkPath)}.cidr (a /${larger.prefix} holds ${vmRoom(larger)}) or fewer VMs`,
        ...(sites.length === 1 && { explainsVmAddressesFrom: room }),
      });
    }
    const gateway = siteAddresses(network, site.network).gateway;
    for (const { vm, index } of own) {
      if (!clean("vms", index, "ip")) continue;
      const problem = addressProblem(vm.ip, network, "a VM", site, gateway);
      if (problem) problems.push({ path: ["vms", index, "ip"], message: problem });
    }
  });
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

/** `hosts.nuc1.network` for a path. */
function key(path: readonly (string | number)[]): string {
  return path.join(".");
}

function checkNetwork(site: SiteConfig, cidr: Ipv4Cidr): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const at = (name: string, message: string | undefined) => {
    if (message !== undefined) problems.push({ path: [...site.networkPath, name], message });
  };
  const written = site.network;
  const { gateway, dhcpStart: start, dhcpEnd: end } = siteAddresses(cidr, written);
  const [g, s, e] = [gateway, start, end].map(formatIpv4) as [string, string, string];
  if (written.gateway !== undefined) at("gateway", addressProblem(g, cidr, "the gateway (the host's address on the bridge)", site));
  if (written.dhcpStart !== undefined) at("dhcpStart", addressProblem(s, cidr, "the DHCP range", site));
  if (written.dhcpEnd !== undefined) at("dhcpEnd", addressProblem(e, cidr, "the DHCP range", site));
  // A range of written and derived ends is judged at the key written.
  const rangeKey = written.dhcpStart !== undefined ? "dhcpStart" : written.dhcpEnd !== undefined ? "dhcpEnd" : "gateway";
  if (start > end) {
    at(written.dhcpEnd !== undefined ? "dhcpEnd" : rangeKey, `${e} comes before dhcpStart ${s}; the range is reversed, swap the two`);
  } else if (gateway >= start && gateway <= end) {
    at(rangeKey, `the DHCP range ${s}-${e} includes the gateway ${g}; start the range after it`);
  }
  return problems;
}

/** With `hosts`: each host's subnet inside `network.cidr`, apart from the others', and a share for every host that takes one. */
function checkShares(config: ClusterConfig, sites: readonly SiteConfig[], networks: readonly (Ipv4Cidr | undefined)[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const whole = parseCidr(config.network.cidr)!;
  if (sites.length === 0) return [{ path: ["hosts"], message: "list at least one host, or use host for a single VM host" }];
  const parts = splitCidr(whole, sites.length);
  if (sites.some((site) => site.shared) && (parts.length === 0 || parts[0]!.prefix > 30)) {
    return [
      {
        path: ["network", "cidr"],
        message: `${formatCidr(whole)} is too small to share among ${sites.length} hosts (each part needs /30 or larger); give a larger network.cidr or set hosts.<name>.network`,
      },
    ];
  }
  sites.forEach((site, i) => {
    const network = networks[i];
    if (!network) return;
    if (!site.shared && (!cidrContains(whole, networkAddress(network)) || network.prefix < whole.prefix)) {
      problems.push({
        path: [...site.networkPath, "cidr"],
        message: `${formatCidr(network)} is outside network.cidr ${formatCidr(whole)}; every host's subnet is a part of it`,
      });
      return;
    }
    const earlier = sites.findIndex((_, j) => j < i && networks[j] !== undefined && cidrsOverlap(networks[j]!, network));
    if (earlier >= 0) {
      problems.push({
        path: [...site.networkPath, "cidr"],
        message: `${formatCidr(network)} overlaps ${sites[earlier]!.name}'s subnet ${formatCidr(networks[earlier]!)}; each host needs a subnet of its own (a host without network takes its share of network.cidr by its place in hosts)`,
      });
    }
  });
  return problems;
}

function checkLan(
  site: SiteConfig,
  lan: NonNullable<ClusterConfig["lan"]>,
  sites: readonly SiteConfig[],
  networks: readonly (Ipv4Cidr | undefined)[],
  bridge: string | undefined,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const subnet = parseCidr(lan.subnet)!;
  sites.forEach((other, i) => {
    const network = networks[i];
    if (!network || !cidrsOverlap(subnet, network)) return;
    problems.push({
      path: [...other.networkPath, "cidr"],
      message: `${formatCidr(network)} overlaps ${key(site.lanPath)}.subnet ${lan.subnet}; give the cluster a subnet the LAN does not use, so it can be routed`,
    });
  });
  if (lan.address !== undefined) {
    const address = parseIpv4(lan.address)!;
    if (!cidrContains(subnet, address) || address === networkAddress(subnet) || address === broadcastAddress(subnet)) {
      problems.push({
        path: [...site.lanPath, "address"],
        message: `${lan.address} is not a host address in ${key(site.lanPath)}.subnet ${lan.subnet}; give this host's own LAN address`,
      });
    }
  }
  if (bridge !== undefined && bridge === lan.interface) {
    problems.push({
      path: ["network", "bridge"],
      message: `"${bridge}" is the LAN interface (${key(site.lanPath)}.interface); the cluster needs a bridge of its own, or leave bridge out`,
    });
  }
  return problems;
}

/** With several hosts: each has a LAN address, on every other host's LAN (the routes to its VMs go through it). */
function checkLanAddresses(sites: readonly SiteConfig[], lans: readonly (NonNullable<ClusterConfig["lan"]> | undefined)[]): ConfigProblem[] {
  if (sites.length < 2) return [];
  const problems: ConfigProblem[] = [];
  sites.forEach((site, i) => {
    const lan = lans[i];
    if (lan === undefined) return;
    if (lan.address === undefined) {
      problems.push({
        path: [...site.lanPath, "address"],
        message: "is required with several hosts: the other hosts route this host's VMs through its LAN address",
      });
      return;
    }
    const address = parseIpv4(lan.address)!;
    sites.forEach((other, j) => {
      const otherLan = lans[j];
      if (j === i || otherLan === undefined) return;
      if (!cidrContains(parseCidr(otherLan.subnet)!, address)) {
        problems.push({
          path: [...site.lanPath, "address"],
          message: `${lan.address} is not on ${other.name}'s LAN ${otherLan.subnet} (${key(other.lanPath)}.subnet); the hosts route each other's VMs over one LAN`,
        });
      } else if (j < i && otherLan.address === lan.address) {
        problems.push({ path: [...site.lanPath, "address"], message: `${lan.address} is already ${other.name}'s LAN address; each host has its own` });
      }
    });
  });
  return problems;
}

/** Two entries of `hosts` that reach the same machine would make the same libvirt objects twice. */
function sameMachines(sites: readonly SiteConfig[]): ConfigProblem[] {
  const seen = new Map<string, SiteConfig>();
  const problems: ConfigProblem[] = [];
  for (const site of sites) {
    const host = site.host;
    // A network namespace is no other machine: every local entry drives this machine's one libvirtd.
    const id = host.type === "local" ? "local" : `ssh ${host.host.toLowerCase()}:${host.port}`;
    const first = seen.get(id);
    if (first === undefined) seen.set(id, site);
    else problems.push({ path: [...site.hostPath], message: `reaches the same VM host as hosts.${first.name}; each entry of hosts is a host of its own` });
  }
  return problems;
}

/** Keys of the single-host form beside `hosts`, and each VM's `host` against the entries of `hosts`. */
function checkHostKeys(config: ClusterConfig, clean: Clean, vms: readonly { vm: Vm; index: number }[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (config.hosts === undefined) {
    if (config.lan === undefined && clean("lan"))
      problems.push({ path: ["lan"], message: "is required: the VM host's LAN interface and subnet ({ interface, subnet })" });
    for (const { vm, index } of vms) {
      if (vm.host !== undefined)
        problems.push({
          path: ["vms", index, "host"],
          message: `names an entry of hosts, and this stack has a single host; leave it out, or list the hosts in hosts`,
        });
    }
    return problems;
  }
  if (config.host !== undefined)
    problems.push({ path: ["host"], message: "set either host (one VM host) or hosts (several), not both; move it into hosts.<name>" });
  if (config.lan !== undefined) problems.push({ path: ["lan"], message: "with hosts, each host has its own lan; move it into hosts.<name>.lan" });
  for (const name of ["gateway", "dhcpStart", "dhcpEnd"] as const) {
    if (config.network?.[name] !== undefined)
      problems.push({
        path: ["network", name],
        message: `with hosts, each host has its own; set hosts.<name>.network.${name}, or leave it out for the default`,
      });
  }
  if (!clean("hosts")) return problems;
  const names = Object.keys(config.hosts);
  for (const { vm, index } of vms) {
    if (vm.host === undefined && names.length > 1) {
      problems.push({ path: ["vms", index, "host"], message: `is required with several hosts: name the one this VM runs on (${names.join(", ")})` });
    } else if (vm.host !== undefined && !Object.hasOwn(config.hosts, vm.host)) {
      problems.push({ path: ["vms", index, "host"], message: `there is no host "${vm.host}" in hosts; use one of ${names.join(", ")}` });
    }
  }
  return problems;
}

/** How many VMs the network has addresses for: all but the network, broadcast and gateway addresses. */
export function vmRoom(cidr: Ipv4Cidr): number {
  return Math.max(broadcastAddress(cidr) - networkAddress(cidr) - 2, 0);
}

/** Why `text` cannot be a host address in `cidr`, phrased for `role`; undefined when it can. */
function addressProblem(text: string, cidr: Ipv4Cidr, role: string, site: SiteConfig, gateway?: number): string | undefined {
  const address = parseIpv4(text)!;
  const first = formatIpv4(networkAddress(cidr) + 1);
  const last = formatIpv4(broadcastAddress(cidr) - 1);
  const where = site.shared ? `${site.name}'s share of network.cidr, ${formatCidr(cidr)}` : `${key(site.networkPath)}.cidr ${formatCidr(cidr)}`;
  if (!cidrContains(cidr, address)) return `${text} is outside ${where}; ${role} needs an address from ${first} to ${last}`;
  if (address === networkAddress(cidr)) return `${text} is the network address of ${formatCidr(cidr)}; use one from ${first} to ${last}`;
  if (address === broadcastAddress(cidr)) return `${text} is the broadcast address of ${formatCidr(cidr)}; use one from ${first} to ${last}`;
  return address === gateway
    ? `${text} is the gateway (${site.network.gateway === undefined ? `the first address of ${formatCidr(cidr)}` : `${key(site.networkPath)}.gateway`}); give the VM another address`
    : undefined;
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
