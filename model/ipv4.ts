// IPv4 arithmetic on unsigned 32-bit numbers: all the project needs, so no dependency.

/** A CIDR as written: `base` may still have host bits set (the schema reports that). */
export interface Ipv4Cidr {
  readonly base: number;
  readonly prefix: number;
}

// Decimal octets without leading zeros: "010" means 8 to some tools and 10 to others.
const OCTET = /^(0|[1-9][0-9]{0,2})$/;

export function parseIpv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) return undefined;
  const octets = parts.map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  return octets.reduce((acc, o) => acc * 256 + o, 0);
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join(".");
}

export function parseCidr(text: string): Ipv4Cidr | undefined {
  const match = /^([^/]+)\/(0|[1-9][0-9]?)$/.exec(text);
  if (!match) return undefined;
  const base = parseIpv4(match[1]!);
  const prefix = Number(match[2]);
  return base === undefined || prefix > 32 ? undefined : { base, prefix };
}

export function netmask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function networkAddress(cidr: Ipv4Cidr): number {
  return (cidr.base & netmask(cidr.prefix)) >>> 0;
}

export function broadcastAddress(cidr: Ipv4Cidr): number {
  return (networkAddress(cidr) | ~netmask(cidr.prefix)) >>> 0;
}

export function cidrContains(cidr: Ipv4Cidr, address: number): boolean {
  return (address & netmask(cidr.prefix)) >>> 0 === networkAddress(cidr);
}

export function cidrsOverlap(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  return cidrContains(a, networkAddress(b)) || cidrContains(b, networkAddress(a));
}

/** Canonical `network/prefix` form. */
export function formatCidr(cidr: Ipv4Cidr): string {
  return `${formatIpv4(networkAddress(cidr))}/${cidr.prefix}`;
}
