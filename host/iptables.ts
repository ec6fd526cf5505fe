// The seed's three iptables rules as data, the argv that checks, adds and deletes them, and the
// reading of `iptables-save` for rules carrying our comment. Every rule carries the comment
// `vm-cluster:<cluster>`, so only this cluster's rules are ever found or deleted.
import { clusterNames } from "../model/names";

/** iptables waits for the xtables lock (held by another firewall tool) at most this long, then fails saying so. */
const XTABLES_WAIT = ["-w", "30"];

export interface ClusterFirewallSpec {
  cluster: string;
  /** The host's LAN interface (the seed's vmhost_iface_name, eno1). */
  lanInterface: string;
  /** The cluster network's bridge. */
  bridge: string;
  /** The cluster subnet (the seed's vm_cluster_bridge_net). */
  clusterCidr: string;
  /** The host's LAN subnet (the seed's vmhost_net). */
  lanCidr: string;
  /** The other hosts' cluster subnets (with `hosts`): reached by their own addresses, not masqueraded. */
  peerCidrs?: string[];
}

export interface IptablesRule {
  table: "filter" | "nat";
  chain: string;
  /** Insert at position 1 (the seed's FORWARD rules) rather than append. */
  insert: boolean;
  match: string[];
  target: string;
}

export function firewallTag(cluster: string): string {
  return clusterNames(cluster).firewallTag;
}

/**
 * FORWARD accept both ways between LAN and bridge for the two subnets, and MASQUERADE for the
 * cluster subnet leaving through the LAN interface (the seed's `-o kvmbr0` named the wrong way).
 * With other hosts: their subnets forwarded to the bridge and left unmasqueraded.
 */
export function clusterRules(s: ClusterFirewallSpec): IptablesRule[] {
  return [
    { table: "filter", chain: "FORWARD", insert: true, match: ["-s", s.clusterCidr, "-d", s.lanCidr, "-i", s.bridge, "-o", s.lanInterface], target: "ACCEPT" },
    { table: "filter", chain: "FORWARD", insert: true, match: ["-s", s.lanCidr, "-d", s.clusterCidr, "-i", s.lanInterface, "-o", s.bridge], target: "ACCEPT" },
    { table: "nat", chain: "POSTROUTING", insert: false, match: ["-s", s.clusterCidr, "-o", s.lanInterface], target: "MASQUERADE" },
    ...(s.peerCidrs ?? []).flatMap((peer): IptablesRule[] => [
      // Before libvirt's own MASQUERADE of the subnet: the other host sees the VM's address.
      { table: "nat", chain: "POSTROUTING", insert: true, match: ["-s", s.clusterCidr, "-d", peer], target: "RETURN" },
      // libvirt's NAT network lets in only replies; the other hosts' VMs may open connections.
      { table: "filter", chain: "FORWARD", insert: true, match: ["-s", peer, "-d", s.clusterCidr, "-o", s.bridge], target: "ACCEPT" },
    ]),
  ];
}

/** How a rule shows in state and messages: table, chain and rule, without the comment. */
export function describeRule(rule: IptablesRule): string {
  return [rule.table, rule.chain, ...rule.match, "-j", rule.target].join(" ");
}

type Operation = "check" | "add" | "delete";

/** `-w`: wait for the xtables lock instead of failing when another program holds it. */
export function ruleArgv(op: Operation, rule: IptablesRule, tag: string): string[] {
  const where = op === "check" ? ["-C", rule.chain] : op === "delete" ? ["-D", rule.chain] : rule.insert ? ["-I", rule.chain, "1"] : ["-A", rule.chain];
  return ["iptables", ...XTABLES_WAIT, "-t", rule.table, ...where, ...rule.match, "-m", "comment", "--comment", tag, "-j", rule.target];
}

/** A rule line of `iptables-save`: its table, chain and the words after `-A <chain>`. */
export interface SavedRule {
  table: string;
  chain: string;
  args: string[];
}

/** Splits an `iptables-save` line into words: double quotes group, backslash escapes inside them. */
export function splitSaveLine(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === "\\" && i + 1 < line.length) word += line[++i];
      else if (c === '"') quoted = false;
      else word += c;
    } else if (c === '"') {
      quoted = true;
      word ??= "";
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? "") + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** Every rule of `iptables-save` output whose comment is exactly `tag` (so not another cluster's). */
export function taggedRules(save: string, tag: string): SavedRule[] {
  const rules: SavedRule[] = [];
  let table = "";
  for (const line of save.split("\n")) {
    if (line.startsWith("*")) table = line.slice(1).trim();
    if (!line.startsWith("-A ")) continue;
    const [, chain, ...args] = splitSaveLine(line);
    if (chain && args.some((w, i) => w === "--comment" && args[i + 1] === tag)) rules.push({ table, chain, args });
  }
  return rules;
}

export function deleteSavedRuleArgv(rule: SavedRule): string[] {
  return ["iptables", ...XTABLES_WAIT, "-t", rule.table, "-D", rule.chain, ...rule.args];
}
