// The cluster's NAT network: a bridge, dnsmasq handing out addresses, and one reservation per VM that
// ties its name, MAC and IP. Reservations change live (net-update), never by recreating the network.
import {
  attr,
  attrs,
  buildDocument,
  child,
  children,
  parseCount,
  parseDocument,
  requiredAttr,
  requiredChild,
  requiredText,
  text,
  type XmlElement,
} from "./codec";
import { buildMetadataElement, parseMetadataElement, type Metadata } from "./metadata";

/**
 * `<network>` with `<forward mode='nat'/>` and a bridge with STP on and no forward delay; those
 * constants are written, not read back. libvirt adds a uuid, and a MAC for the bridge when none is
 * given; a running network may also show a connections count and a NAT port range.
 */
export interface Network {
  name: string;
  metadata?: Metadata;
  bridge: { name: string };
  mac?: { address: string };
  /** `<domain name localOnly='yes'/>`: dnsmasq answers names in it itself and never forwards them. */
  domain?: string;
  /** `<dns><host>` entries: names the network's DNS answers for an address. */
  dnsHosts?: DnsHost[];
  /** The IPv4 `<ip>`; any other `<ip>` is not read. */
  ip: NetworkIp;
}

/** libvirt keeps whichever of netmask or prefix it was given. */
export type NetworkIp = { address: string; dhcp: NetworkDhcp } & ({ netmask: string } | { prefix: number });

export interface NetworkDhcp {
  /** The first `<range>`; we define one. */
  range: { start: string; end: string };
  hosts: DhcpHost[];
}

/** `<host ip><hostname>…</hostname></host>` under `<dns>`. */
export interface DnsHost {
  ip: string;
  hostnames: string[];
}

/** `<host mac name ip/>`. libvirt needs ip and one of mac or name; we always give all three. */
export interface DhcpHost {
  mac?: string;
  name?: string;
  ip: string;
}

export function buildNetworkXml(network: Network): string {
  const { ip } = network;
  const element: XmlElement = { name: network.name };
  if (network.metadata !== undefined) element.metadata = buildMetadataElement(network.metadata);
  element.forward = attrs({ mode: "nat" });
  element.bridge = attrs({ name: network.bridge.name, stp: "on", delay: 0 });
  if (network.mac !== undefined) element.mac = attrs({ address: network.mac.address });
  if (network.domain !== undefined) element.domain = attrs({ name: network.domain, localOnly: "yes" });
  if (network.dnsHosts !== undefined && network.dnsHosts.length > 0) element.dns = { host: network.dnsHosts.map(dnsHostElement) };
  element.ip = {
    ...attrs({ address: ip.address, ...("netmask" in ip ? { netmask: ip.netmask } : { prefix: ip.prefix }) }),
    dhcp: {
      range: attrs({ start: ip.dhcp.range.start, end: ip.dhcp.range.end }),
      host: ip.dhcp.hosts.map(hostAttrs),
    },
  };
  return buildDocument("network", element);
}

export function parseNetworkXml(xml: string): Network {
  const root = parseDocument(xml, "network");
  const name = requiredText(root, "name", "network");
  const where = `network ${name}`;
  const network: Network = {
    name,
    bridge: { name: requiredAttr(requiredChild(root, "bridge", where), "name", `${where} <bridge>`) },
    ip: parseIp(root, where),
  };
  const metadata = parseMetadataElement(root);
  if (metadata !== undefined) network.metadata = metadata;
  const mac = attr(child(root, "mac"), "address");
  if (mac !== undefined) network.mac = { address: mac };
  const domain = attr(child(root, "domain"), "name");
  if (domain !== undefined) network.domain = domain;
  const dns = child(root, "dns");
  if (dns !== undefined) network.dnsHosts = children(dns, "host").map((host) => parseDnsHost(host, where));
  return network;
}

function parseDnsHost(element: XmlElement, where: string): DnsHost {
  return {
    ip: requiredAttr(element, "ip", `${where} <dns><host>`),
    hostnames: children(element, "hostname").map((name) => text(name) ?? ""),
  };
}

function dnsHostElement(host: DnsHost): XmlElement {
  return { ...attrs({ ip: host.ip }), hostname: host.hostnames };
}

/** The `<host>` fragment for `virsh net-update <net> add|delete dns-host <xml>` (libvirt cannot modify one). */
export function buildDnsHostXml(host: DnsHost): string {
  return buildDocument("host", dnsHostElement(host)).trim();
}

/** DNS host edits that turn `current` into `wanted`: entries that differ at all are removed and added. */
export function dnsHostChanges(current: readonly DnsHost[], wanted: readonly DnsHost[]): { remove: DnsHost[]; add: DnsHost[] } {
  const key = (host: DnsHost) => JSON.stringify([host.ip, [...host.hostnames].sort()]);
  const have = new Set(current.map(key));
  const want = new Set(wanted.map(key));
  return { remove: current.filter((host) => !want.has(key(host))), add: wanted.filter((host) => !have.has(key(host))) };
}

function parseIp(root: XmlElement, where: string): NetworkIp {
  const ip = children(root, "ip").find((element) => (attr(element, "family") ?? "ipv4") === "ipv4");
  if (ip === undefined) throw new Error(`${where}: no IPv4 <ip>`);
  const dhcp = requiredChild(ip, "dhcp", where);
  const range = requiredChild(dhcp, "range", where);
  const parsedDhcp: NetworkDhcp = {
    range: { start: requiredAttr(range, "start", `${where} <range>`), end: requiredAttr(range, "end", `${where} <range>`) },
    hosts: children(dhcp, "host").map((host) => parseHost(host, where)),
  };
  const address = requiredAttr(ip, "address", `${where} <ip>`);
  const prefix = attr(ip, "prefix");
  if (prefix !== undefined) return { address, prefix: parseCount(prefix, `${where} <ip prefix>`), dhcp: parsedDhcp };
  return { address, netmask: requiredAttr(ip, "netmask", `${where} <ip>`), dhcp: parsedDhcp };
}

function parseHost(element: XmlElement, where: string): DhcpHost {
  const host: DhcpHost = { ip: requiredAttr(element, "ip", `${where} <host>`) };
  const mac = attr(element, "mac");
  const name = attr(element, "name");
  if (mac !== undefined) host.mac = mac;
  if (name !== undefined) host.name = name;
  return host;
}

function hostAttrs(host: DhcpHost): XmlElement {
  return attrs({ mac: host.mac, name: host.name, ip: host.ip });
}

/** The `<host/>` fragment for `virsh net-update <net> add|modify|delete ip-dhcp-host <xml> --live --config`. */
export function buildDhcpHostXml(host: DhcpHost): string {
  return buildDocument("host", hostAttrs(host)).trim();
}

/** Reservation edits that turn `current` into `wanted`; apply them in this order: remove, modify, add. */
export interface DhcpHostChanges {
  /** Entries as they are now (delete matches on every attribute given). */
  remove: DhcpHost[];
  /** Entries as wanted; each matches its current entry by MAC (by name when it has no MAC). */
  modify: DhcpHost[];
  add: DhcpHost[];
}

/**
 * Plans live reservation updates. An entry is identified by its MAC (case-insensitive, as libvirt
 * compares them), or by its name when it has none. libvirt's `modify` rewrites the first entry that
 * matches the new MAC, IP *or* name, and `add` refuses a MAC, IP or name already present; so an
 * entry whose new IP or name another remaining entry still holds (say two VMs swap addresses) is
 * deleted and re-added instead of modified.
 */
export function dhcpHostChanges(current: readonly DhcpHost[], wanted: readonly DhcpHost[]): DhcpHostChanges {
  assertUnique(wanted);
  const wantedByKey = new Map(wanted.map((host) => [hostKey(host), host]));
  const matched = new Set<string>();
  const remove: DhcpHost[] = [];
  let modify: Array<{ from: DhcpHost; to: DhcpHost }> = [];
  for (const host of current) {
    const key = hostKey(host);
    const want = wantedByKey.get(key);
    // A second entry for the same key (possible only by hand) is surplus.
    if (want === undefined || matched.has(key)) {
      remove.push(host);
      continue;
    }
    matched.add(key);
    if (!sameHost(host, want)) modify.push({ from: host, to: want });
  }
  const add = wanted.filter((host) => !matched.has(hostKey(host)));
  for (;;) {
    const remaining = current.filter((host) => !remove.includes(host));
    const unsafe = modify.find(({ from, to }) =>
      remaining.some((other) => other !== from && (other.ip === to.ip || (to.name !== undefined && other.name === to.name))),
    );
    if (unsafe === undefined) break;
    modify = modify.filter((change) => change !== unsafe);
    remove.push(unsafe.from);
    add.push(unsafe.to);
  }
  return { remove, modify: modify.map(({ to }) => to), add };
}

function hostKey(host: DhcpHost): string {
  return host.mac !== undefined ? `mac ${host.mac.toLowerCase()}` : `name ${host.name ?? ""}`;
}

function sameHost(a: DhcpHost, b: DhcpHost): boolean {
  return hostKey(a) === hostKey(b) && a.name === b.name && a.ip === b.ip;
}

// libvirt would refuse the second of two reservations sharing a MAC, name or IP; say which, up front.
function assertUnique(hosts: readonly DhcpHost[]): void {
  const seen = new Map<string, DhcpHost>();
  for (const host of hosts) {
    const fields: Array<[string, string | undefined]> = [
      ["MAC", host.mac?.toLowerCase()],
      ["name", host.name],
      ["IP", host.ip],
    ];
    for (const [label, value] of fields) {
      if (value === undefined) continue;
      const other = seen.get(`${label} ${value}`);
      if (other !== undefined) {
        throw new Error(`DHCP reservations ${buildDhcpHostXml(other)} and ${buildDhcpHostXml(host)} share the same ${label}`);
      }
      seen.set(`${label} ${value}`, host);
    }
  }
}
