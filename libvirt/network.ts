// The cluster's NAT network with one DHCP reservation and one DNS entry per VM. Both change live
// (`net-update --live --config`): adding or removing a VM never restarts the network or touches
// the other VMs. Everything else about the network is fixed for its life (a change replaces it).
import { deleteFirst } from "../provider/delete-first";
import * as pulumi from "../provider/pulumi";
import { connect, isCommandError } from "../transport/connection";
import { formatIpv4, netmask } from "../model/ipv4";
import { defineXml, nameTakenError, parseInfo, virsh, virshIfExists, targetChange, type LibvirtTarget } from "./virsh";
import {
  buildDhcpHostXml,
  buildDnsHostXml,
  buildNetworkXml,
  dhcpHostChanges,
  dnsHostChanges,
  parseNetworkXml,
  sameOwner,
  type DhcpHost,
  type DnsHost,
  type Owner,
} from "./xml";
import { leftAloneWarning } from "../provider/warning";
import { undoThenThrow, withClearErrors } from "../provider/clear-errors";
import { DynamicResource } from "../provider/dynamic-resource";

export interface NatNetworkInputs {
  target: LibvirtTarget;
  name: string;
  bridge: string;
  /** The host's address on the bridge: the VMs' gateway. */
  address: string;
  netmask: string;
  dhcpStart: string;
  dhcpEnd: string;
  hosts: DhcpHost[];
  /** The VMs' DNS domain, answered locally only. Absent in states written before it existed. */
  domain?: string;
  /** The names the network's DNS answers, per VM address. */
  dnsHosts?: DnsHost[];
  owner: Owner;
}

export interface NatNetworkState extends NatNetworkInputs {
  active: boolean;
  autostart: boolean;
  /**
   * Every running VM on the network is plugged into its bridge. False after the network was
   * restarted by hand under them (net-destroy + net-start): active, yet the VMs are cut off.
   * Absent in states written before it existed: taken as plugged.
   */
  plugged?: boolean;
}

export interface NatNetworkArgs {
  target: pulumi.Input<LibvirtTarget>;
  name: pulumi.Input<string>;
  bridge: pulumi.Input<string>;
  address: pulumi.Input<string>;
  netmask: pulumi.Input<string>;
  dhcpStart: pulumi.Input<string>;
  dhcpEnd: pulumi.Input<string>;
  hosts: pulumi.Input<pulumi.Input<DhcpHost>[]>;
  domain: pulumi.Input<string>;
  dnsHosts: pulumi.Input<pulumi.Input<DnsHost>[]>;
  owner: pulumi.Input<Owner>;
}

/** Properties whose change needs a new network. */
const FIXED = ["name", "bridge", "address", "netmask", "dhcpStart", "dhcpEnd", "domain"] as const;

async function readNetwork(t: LibvirtTarget, name: string) {
  const xml = await virshIfExists(t, ["net-dumpxml", "--inactive", name]);
  if (xml === undefined) return undefined;
  const net = parseNetworkXml(xml);
  const info = parseInfo((await virsh(t, ["net-info", name])).stdout);
  return {
    live: {
      bridge: net.bridge.name,
      address: net.ip.address,
      netmask: "netmask" in net.ip ? net.ip.netmask : formatIpv4(netmask(net.ip.prefix)),
      dhcpStart: net.ip.dhcp.range.start,
      dhcpEnd: net.ip.dhcp.range.end,
      hosts: net.ip.dhcp.hosts,
      ...(net.domain !== undefined && { domain: net.domain }),
      dnsHosts: net.dnsHosts ?? [],
      active: info.Active === "yes",
      autostart: info.Autostart === "yes",
    },
    owner: net.metadata?.owner,
  };
}

/** Reservations compared as libvirt does: MACs case-insensitively, order and key order ignored. */
const hostsKey = (hosts: DhcpHost[]) =>
  hosts
    .map((h) => `${h.mac?.toLowerCase() ?? ""}|${h.name ?? ""}|${h.ip}`)
    .sort()
    .join(",");

const dnsKey = (hosts: DnsHost[] | undefined) => JSON.stringify((hosts ?? []).map((h) => [h.ip, [...h.hostnames].sort()]).sort());

/** What the VMs' entries are: reservations and DNS names. */
type Entries = Pick<NatNetworkInputs, "hosts" | "dnsHosts">;

/** Applies reservation and DNS edits; `--live` only while the network runs. */
async function updateEntries(t: LibvirtTarget, name: string, current: Entries, wanted: Entries, active: boolean) {
  const changes = dhcpHostChanges(current.hosts, wanted.hosts);
  const scope = active ? ["--live", "--config"] : ["--config"];
  const edit = (command: string, section: string, xml: string) => virsh(t, ["net-update", name, command, section, xml, ...scope]);
  for (const host of changes.remove) await edit("delete", "ip-dhcp-host", buildDhcpHostXml(host));
  for (const host of changes.modify) await edit("modify", "ip-dhcp-host", buildDhcpHostXml(host));
  for (const host of changes.add) await edit("add", "ip-dhcp-host", buildDhcpHostXml(host));
  const dns = dnsHostChanges(current.dnsHosts ?? [], wanted.dnsHosts ?? []);
  for (const host of dns.remove) await edit("delete", "dns-host", buildDnsHostXml(host));
  for (const host of dns.add) await edit("add", "dns-host", buildDnsHostXml(host));
}

/** The tap devices of running domains whose interface is on `network`, from `virsh domiflist`. */
export function tapsOn(domiflist: string, network: string): string[] {
  return domiflist
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter(([tap, type, source]) => type === "network" && source === network && tap !== undefined && tap !== "-")
    .map(([tap]) => tap!);
}

/**
 * A network (re)started under running domains gets a new bridge, and libvirt leaves their tap
 * devices unplugged (measured with libvirt 9.0): the VMs would be cut off. Plug them back in, as
 * libvirt itself does when it starts a domain.
 */
async function reattachDomains(t: LibvirtTarget, network: string, bridge: string): Promise<void> {
  const conn = connect(t.connection);
  for (const tap of await unpluggedTaps(t, network, bridge)) {
    await conn.run(["ip", "link", "set", "dev", tap, "master", bridge]);
    await conn.run(["ip", "link", "set", "dev", tap, "up"]);
  }
}

/** The tap devices of running domains on `network` that are not on its bridge. */
async function unpluggedTaps(t: LibvirtTarget, network: string, bridge: string): Promise<string[]> {
  const running = (await virsh(t, ["list", "--name", "--state-running"])).stdout
    .split("\n")
    .map((n) => n.trim())
    .filter(Boolean);
  const taps: string[] = [];
  for (const domain of running) taps.push(...tapsOn((await virshIfExists(t, ["domiflist", domain])) ?? "", network));
  if (taps.length === 0) return [];
  const onBridge = new Set(linkNames((await connect(t.connection).run(["ip", "-o", "link", "show", "master", bridge])).stdout));
  return taps.filter((tap) => !onBridge.has(tap));
}

/** Interface names from `ip -o link show` lines (`7: vnet0@if6: <...>` gives vnet0). */
export function linkNames(ipLinkOneLine: string): string[] {
  return ipLinkOneLine
    .split("\n")
    .map((line) => /^\d+:\s+([^:@\s]+)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
}

/** Started, autostarted, and every running VM on it plugged into its bridge (a no-op where all are). */
async function ensureRunning(t: LibvirtTarget, name: string, state: { active: boolean; autostart: boolean }, bridge: string) {
  if (!state.active) await virsh(t, ["net-start", name]);
  await reattachDomains(t, name, bridge);
  if (!state.autostart) await virsh(t, ["net-autostart", name]);
}

export const natNetworkProvider: pulumi.dynamic.ResourceProvider<NatNetworkInputs, NatNetworkState> = withClearErrors<NatNetworkInputs, NatNetworkState>(
  "network",
  {
    async create(inputs) {
      const t = inputs.target;
      const existing = await readNetwork(t, inputs.name);
      if (existing !== undefined) {
        // Ours from an interrupted run (its marker names this very stack): take it over and converge.
        if (!sameOwner(existing.owner, inputs.owner)) {
          throw nameTakenError("network", inputs.name, `virsh net-destroy ${inputs.name}; virsh net-undefine ${inputs.name}`);
        }
        const differs = FIXED.filter((k) => k !== "name" && existing.live[k] !== inputs[k]);
        if (differs.length > 0) {
          throw new Error(
            `network ${inputs.name} left by an interrupted run differs in ${differs.join(", ")}: run \`pulumi destroy\` or remove it by hand (virsh net-destroy/net-undefine ${inputs.name})`,
          );
        }
        await updateEntries(t, inputs.name, existing.live, inputs, existing.live.active);
        await ensureRunning(t, inputs.name, existing.live, inputs.bridge);
        return { id: inputs.name, outs: { ...inputs, active: true, autostart: true, plugged: true } };
      }
      const xml = buildNetworkXml({
        name: inputs.name,
        metadata: { owner: inputs.owner },
        bridge: { name: inputs.bridge },
        domain: inputs.domain,
        dnsHosts: inputs.dnsHosts,
        ip: { address: inputs.address, netmask: inputs.netmask, dhcp: { range: { start: inputs.dhcpStart, end: inputs.dhcpEnd }, hosts: inputs.hosts } },
      });
      await defineXml(t, ["net-define"], xml);
      try {
        await virsh(t, ["net-start", inputs.name]);
        await virsh(t, ["net-autostart", inputs.name]);
      } catch (err) {
        await undoThenThrow(err, [
          // A network that never started is not active: nothing to stop then.
          {
            what: `stopping the network (virsh net-destroy ${inputs.name})`,
            run: () =>
              virsh(t, ["net-destroy", inputs.name]).catch((e) => {
                if (!/not active/i.test(isCommandError(e) ? e.stderr : "")) throw e;
              }),
          },
          { what: `undefining the network (virsh net-undefine ${inputs.name})`, run: () => virsh(t, ["net-undefine", inputs.name]) },
        ]);
      }
      // The network was removed behind our back while its VMs ran: they come back on the new bridge.
      await reattachDomains(t, inputs.name, inputs.bridge);
      return { id: inputs.name, outs: { ...inputs, active: true, autostart: true, plugged: true } };
    },

    async read(id, props) {
      const found = props && (await readNetwork(props.target, id));
      if (!found) return {};
      // Only refresh asks whether the VMs are still on the bridge: create and update plug them in anyway.
      const plugged = found.live.active ? (await unpluggedTaps(props.target, id, found.live.bridge)).length === 0 : true;
      return { id, props: { ...props, ...found.live, plugged } };
    },

    async diff(_id, olds, news) {
      const replaces: string[] = FIXED.filter((k) => olds[k] !== news[k]);
      const target = targetChange(olds.target, news.target);
      if (target === "moved") replaces.push("target");
      const hostsChanged = hostsKey(olds.hosts) !== hostsKey(news.hosts) || dnsKey(olds.dnsHosts) !== dnsKey(news.dnsHosts);
      const drift = !olds.active || !olds.autostart || olds.plugged === false;
      return { changes: replaces.length > 0 || hostsChanged || drift || target !== "same", replaces, deleteBeforeReplace: true };
    },

    async update(id, olds, news) {
      const t = news.target;
      await updateEntries(t, id, olds, news, olds.active);
      await ensureRunning(t, id, olds, olds.bridge);
      // The marker on the host is the one written at create: state keeps naming it (a renamed stack).
      return { outs: { ...news, owner: olds.owner, active: true, autostart: true, plugged: true } };
    },

    async delete(id, props) {
      const found = await readNetwork(props.target, id);
      if (!found) return;
      if (!sameOwner(found.owner, props.owner)) {
        leftAloneWarning(`network ${id}`, `virsh net-destroy ${id}; virsh net-undefine ${id}`);
        return;
      }
      if (found.live.active) await virsh(props.target, ["net-destroy", id]);
      await virsh(props.target, ["net-undefine", id]);
    },
  },
);

export class NatNetwork extends DynamicResource {
  declare readonly name: pulumi.Output<string>;
  declare readonly bridge: pulumi.Output<string>;

  constructor(name: string, args: NatNetworkArgs, opts?: pulumi.CustomResourceOptions) {
    super(natNetworkProvider, name, { ...args, active: undefined, autostart: undefined, plugged: undefined }, deleteFirst(opts), "vm-cluster", "NatNetwork");
  }
}
