// Typed libvirt XML for the providers: build* turns an object into the XML a virsh *-define/-create
// takes, parse* reads `virsh *dumpxml` back into the same shape, so `pulumi refresh` sees drift.
// Field names mirror the XML: an element is an object, an attribute a field, a text-only element
// a value, repeated elements a plural array. Only what varies between our objects is read back.
export { buildDiskXml, buildDomainXml, parseDomainXml, pcieRootPortCount } from "./domain";
export type { DiskDriverType, Domain, DomainDevices, DomainDisk, DomainInterface, DomainSerial, DomainType } from "./domain";
export { OWNER_NAMESPACE, ownerUuid, parseOwner, sameOwner } from "./metadata";
export type { Metadata, Owner } from "./metadata";
export { buildDhcpHostXml, buildDnsHostXml, buildNetworkXml, dhcpHostChanges, dnsHostChanges, parseNetworkXml } from "./network";
export type { DhcpHost, DhcpHostChanges, DnsHost, Network, NetworkDhcp, NetworkIp } from "./network";
export { buildPoolXml, parsePoolXml } from "./pool";
export type { Pool, PoolPermissions } from "./pool";
export { buildVolumeXml, parseVolumeXml } from "./volume";
export type { Volume, VolumeFormat } from "./volume";
