// The cluster's iptables rules (the seed's FORWARD pair and MASQUERADE). Each is checked with
// `-C` before it is added, so an up never doubles one; refresh reports a rule deleted by hand,
// the next up adds it again; destroy deletes this cluster's rules and nothing else.
import { deleteFirst } from "../provider/delete-first";
import { isDeepStrictEqual } from "node:util";
import * as pulumi from "../provider/pulumi";
import { connect, type ConnectionSpec, type HostConnection } from "../transport/connection";
import { CLUSTER_NAME, INTERFACE_NAME } from "../model/identifiers";
import { parseCidr } from "../model/ipv4";
import { hostDiff, hostIdentity } from "./host-diff";
import { clusterRules, deleteSavedRuleArgv, describeRule, firewallTag, ruleArgv, taggedRules, type ClusterFirewallSpec, type IptablesRule } from "./iptables";
import { withClearErrors } from "../provider/clear-errors";
import { DynamicResource } from "../provider/dynamic-resource";

export interface FirewallRulesInputs extends ClusterFirewallSpec {
  connection: ConnectionSpec;
}

export interface FirewallRulesState extends FirewallRulesInputs {
  /** The cluster's rules present on the host, as `describeRule` writes them. */
  rules: string[];
}

/** Problems with the inputs, per property: they end up in argv and in the rule comment. */
export function firewallInputProblems(inputs: ClusterFirewallSpec): { property: string; reason: string }[] {
  const problems: { property: string; reason: string }[] = [];
  if (!CLUSTER_NAME.test(inputs.cluster))
    problems.push({ property: "cluster", reason: `"${inputs.cluster}" is not a cluster name: lowercase letters and digits, a letter first, at most 20` });
  for (const key of ["lanInterface", "bridge"] as const) {
    if (!INTERFACE_NAME.test(inputs[key]))
      problems.push({
        property: key,
        reason: `"${inputs[key]}" is not a network interface name (at most 15 of A-Z a-z 0-9 _ . -, not starting with - . or _)`,
      });
  }
  for (const key of ["clusterCidr", "lanCidr"] as const) {
    if (!parseCidr(inputs[key])) problems.push({ property: key, reason: `"${inputs[key]}" is not an IPv4 CIDR like 172.17.2.0/24` });
  }
  for (const peer of inputs.peerCidrs ?? []) {
    if (!parseCidr(peer)) problems.push({ property: "peerCidrs", reason: `"${peer}" is not an IPv4 CIDR like 172.17.2.0/24` });
  }
  return problems;
}

async function present(conn: HostConnection, rule: IptablesRule, tag: string): Promise<boolean> {
  return (await conn.run(ruleArgv("check", rule, tag), { okCodes: [0, 1] })).code === 0;
}

export async function inspectRules(conn: HostConnection, inputs: FirewallRulesInputs): Promise<FirewallRulesState> {
  const tag = firewallTag(inputs.cluster);
  const rules: string[] = [];
  for (const rule of clusterRules(inputs)) if (await present(conn, rule, tag)) rules.push(describeRule(rule));
  return { ...inputs, rules };
}

export async function ensureRules(conn: HostConnection, inputs: FirewallRulesInputs): Promise<FirewallRulesState> {
  const tag = firewallTag(inputs.cluster);
  for (const rule of clusterRules(inputs)) if (!(await present(conn, rule, tag))) await conn.run(ruleArgv("add", rule, tag));
  return { ...inputs, rules: clusterRules(inputs).map(describeRule) };
}

/** Deletes `rules` (copies added by hand too), bounded so a rule that will not go cannot loop forever. */
async function deleteRules(conn: HostConnection, rules: IptablesRule[], tag: string): Promise<void> {
  for (const rule of rules) {
    for (let i = 0; i < 100 && (await present(conn, rule, tag)); i++) await conn.run(ruleArgv("delete", rule, tag));
  }
}

/** This cluster's rules, then any other rule still carrying its comment (from an earlier config or a lost state). */
export async function removeRules(conn: HostConnection, inputs: FirewallRulesInputs): Promise<void> {
  const tag = firewallTag(inputs.cluster);
  await deleteRules(conn, clusterRules(inputs), tag);
  // Plain iptables-save: naming a table (-t) would create it where it does not exist.
  for (const rule of taggedRules((await conn.run(["iptables-save"])).stdout, tag)) await conn.run(deleteSavedRuleArgv(rule));
}

/** Pulumi's wire value for "not known yet" during preview. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export const firewallRulesProvider: pulumi.dynamic.ResourceProvider<FirewallRulesInputs, FirewallRulesState> = withClearErrors<
  FirewallRulesInputs,
  FirewallRulesState
>("firewall rules", {
  async check(_olds, news) {
    // Values not known yet (preview) are checked when they are.
    const known = Object.values(news).every((v) => typeof v !== "string" || v !== UNKNOWN);
    return { inputs: news, failures: known ? firewallInputProblems(news) : [] };
  },

  async create(inputs) {
    const outs = await ensureRules(connect(inputs.connection), inputs);
    return { id: `firewall@${hostIdentity(inputs.connection)}/${firewallTag(inputs.cluster)}`, outs };
  },

  async read(id, props) {
    if (!props) return {};
    return { id, props: await inspectRules(connect(props.connection), props) };
  },

  async diff(_id, olds, news) {
    return hostDiff(olds, news, ["cluster"], !isDeepStrictEqual(clusterRules(news).map(describeRule), olds.rules));
  },

  // Rules of the old inputs that the new ones no longer have go first.
  async update(_id, olds, news) {
    const conn = connect(news.connection);
    const wanted = new Set(clusterRules(news).map(describeRule));
    await deleteRules(
      conn,
      clusterRules(olds).filter((r) => !wanted.has(describeRule(r))),
      firewallTag(olds.cluster),
    );
    return { outs: await ensureRules(conn, news) };
  },

  async delete(_id, props) {
    await removeRules(connect(props.connection), props);
  },
});

export interface FirewallRulesArgs {
  connection: pulumi.Input<ConnectionSpec>;
  cluster: pulumi.Input<string>;
  lanInterface: pulumi.Input<string>;
  bridge: pulumi.Input<string>;
  clusterCidr: pulumi.Input<string>;
  lanCidr: pulumi.Input<string>;
  /** The other hosts' cluster subnets; left out for a single host. */
  peerCidrs?: string[];
}

/** FORWARD both ways between LAN and cluster bridge, MASQUERADE out of the LAN: one cluster's rules. */
export class FirewallRules extends DynamicResource {
  declare readonly rules: pulumi.Output<string[]>;

  constructor(name: string, args: FirewallRulesArgs, opts?: pulumi.CustomResourceOptions) {
    super(firewallRulesProvider, name, { ...args, rules: undefined }, deleteFirst(opts), "vm-cluster", "FirewallRules");
  }
}
