// Where the cluster's VM hosts are in the config: one `host` with the top-level `lan` and
// `network`, or the entries of `hosts`, each with its own LAN and its part of `network.cidr`.
// Shared by the cross-checks and the resolved model, so both see the same subnets and defaults.
import { type Ipv4Cidr, broadcastAddress, formatCidr, networkAddress, parseCidr, parseIpv4 } from "./ipv4";
import type { ClusterConfig } from "./schema";

type Path = readonly (string | number)[];

export interface SiteConfig {
  /** The `hosts` entry's name; none for the single `host`. */
  readonly name?: string;
  /** Where its host object, `lan` and `network` keys are: `host`, `lan`, `network` or `hosts.<name>`, `.lan`, `.network`. */
  readonly hostPath: Path;
  readonly lanPath: Path;
  readonly networkPath: Path;
  readonly host: NonNullable<ClusterConfig["host"]>;
  readonly lan?: ClusterConfig["lan"];
  /** The subnet as written, or this host's share of `network.cidr` when it sets none. */
  readonly network: { readonly cidr: string; readonly gateway?: string; readonly dhcpStart?: string; readonly dhcpEnd?: string };
  /** The subnet is this host's share of `network.cidr`, not written. */
  readonly shared: boolean;
}

const LOCAL = { type: "local" as const, sudo: false };

/** The config's sites; with `hosts`, in the order the entries are written. */
export function siteConfigs(config: Pick<ClusterConfig, "host" | "hosts" | "lan" | "network">): SiteConfig[] {
  if (config.hosts === undefined) {
    return [
      { hostPath: ["host"], lanPath: ["lan"], networkPath: ["network"], host: config.host ?? LOCAL, lan: config.lan, network: config.network, shared: false },
    ];
  }
  const entries = Object.entries(config.hosts);
  const whole = parseCidr(config.network.cidr);
  const shares = whole === undefined ? [] : splitCidr(whole, entries.length);
  return entries.map(([name, entry], index) => {
    const { lan, network, ...host } = entry;
    const share = shares[index];
    return {
      name,
      hostPath: ["hosts", name],
      lanPath: ["hosts", name, "lan"],
      networkPath: network === undefined ? ["network"] : ["hosts", name, "network"],
      host,
      lan,
      network: network ?? { cidr: share === undefined ? config.network.cidr : formatCidr(share) },
      shared: network === undefined,
    };
  });
}

/** The `hosts` entry a VM runs on: its `host`, or the one entry when it leaves it out; none for a single `host`. */
export function siteNameOf(config: Pick<ClusterConfig, "hosts">, vm: { readonly host?: string }): string | undefined {
  return config.hosts === undefined ? undefined : (vm.host ?? Object.keys(config.hosts)[0]);
}

/**
 * The first `count` of equal parts of `cidr`: quarters for up to four hosts, then as many as the next
 * power of two. Up to four, adding or removing the last host leaves the others' parts as they are.
 * None when the parts would be smaller than a /32.
 */
export function splitCidr(cidr: Ipv4Cidr, count: number): Ipv4Cidr[] {
  const bits = Math.max(2, Math.ceil(Math.log2(Math.max(count, 1))));
  const prefix = cidr.prefix + bits;
  if (prefix > 32) return [];
  const size = 2 ** (32 - prefix);
  return Array.from({ length: count }, (_, i) => ({ base: networkAddress(cidr) + i * size, prefix }));
}

export interface SiteAddresses {
  readonly gateway: number;
  readonly dhcpStart: number;
  readonly dhcpEnd: number;
}

/**
 * The gateway, the first address unless written, and the DHCP range: the addresses after the
 * gateway, or before it when it is the last one. Written values are kept as they are (the
 * cross-checks judge them).
 */
export function siteAddresses(cidr: Ipv4Cidr, written: SiteConfig["network"]): SiteAddresses {
  const first = networkAddress(cidr) + 1;
  const last = broadcastAddress(cidr) - 1;
  const gateway = (written.gateway === undefined ? undefined : parseIpv4(written.gateway)) ?? first;
  const dhcpStart = (written.dhcpStart === undefined ? undefined : parseIpv4(written.dhcpStart)) ?? (gateway === last ? first : gateway + 1);
  const dhcpEnd = (written.dhcpEnd === undefined ? undefined : parseIpv4(written.dhcpEnd)) ?? (gateway > dhcpStart ? gateway - 1 : last);
  return { gateway, dhcpStart, dhcpEnd };
}
