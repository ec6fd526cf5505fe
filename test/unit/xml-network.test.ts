import { describe, expect, it } from "vitest";
import { buildDhcpHostXml, buildDnsHostXml, buildNetworkXml, dnsHostChanges, parseNetworkXml, type Network } from "../../libvirt/xml";
import { fixture, network } from "./xml-samples";

describe("network XML", () => {
  it("reads back what it builds, with a netmask or a prefix", () => {
    expect(parseNetworkXml(buildNetworkXml(network))).toStrictEqual(network);
    const byPrefix: Network = { ...network, ip: { address: "172.17.2.1", prefix: 24, dhcp: network.ip.dhcp } };
    expect(parseNetworkXml(buildNetworkXml(byPrefix))).toStrictEqual(byPrefix);
  });

  it("builds a NAT network on an STP bridge without forward delay", () => {
    const xml = buildNetworkXml(network);
    expect(xml).toContain('<forward mode="nat"/>');
    expect(xml).toContain('<bridge name="vmc-anemoi" stp="on" delay="0"/>');
    expect(xml).toMatch(/<dhcp>\s*<range start="172.17.2.2" end="172.17.2.254"\/>\s*<host mac="52:54:00:aa:bb:01" name="boreas" ip="172.17.2.2"\/>/);
  });

  // Optional parts stay out of the XML rather than appearing empty: libvirt would reject <mac/>.
  it("leaves out the bridge MAC and metadata when not given", () => {
    const { metadata: _metadata, mac: _mac, ...bare } = network;
    const xml = buildNetworkXml(bare);
    expect(xml).not.toMatch(/<mac|<metadata/);
    expect(parseNetworkXml(xml)).toStrictEqual(bare);
  });

  it("reads net-dumpxml of a defined network as the network we defined", () => {
    expect(parseNetworkXml(fixture("network-defined.xml"))).toStrictEqual(network);
  });

  it("reads net-dumpxml of a running network, ignoring what running adds", () => {
    expect(parseNetworkXml(fixture("network-running.xml"))).toStrictEqual({
      ...network,
      ip: { address: "172.17.2.1", prefix: 24, dhcp: network.ip.dhcp },
    });
  });

  // libvirt accepts a reservation by name alone; one made by hand must still be seen.
  it("reads a reservation without a MAC", () => {
    const xml = fixture("network-defined.xml").replace("<host mac='52:54:00:aa:bb:02' ", "<host ");
    expect(parseNetworkXml(xml).ip.dhcp.hosts[1]).toStrictEqual({ name: "zephyrus", ip: "172.17.2.3" });
  });

  it("builds the <host/> fragment that net-update takes", () => {
    expect(buildDhcpHostXml({ mac: "52:54:00:aa:bb:01", name: "boreas", ip: "172.17.2.2" })).toBe(
      '<host mac="52:54:00:aa:bb:01" name="boreas" ip="172.17.2.2"/>',
    );
  });

  it("answers the VMs' names in a local-only domain, and reads them back", () => {
    const named: Network = {
      ...network,
      domain: "anemoi.internal",
      dnsHosts: [
        { ip: "172.17.2.2", hostnames: ["boreas.anemoi.internal", "boreas"] },
        { ip: "172.17.2.3", hostnames: ["zephyrus.anemoi.internal", "zephyrus"] },
      ],
    };
    const xml = buildNetworkXml(named);
    // localOnly: dnsmasq never forwards a query for the cluster's names off the host.
    expect(xml).toContain('<domain name="anemoi.internal" localOnly="yes"/>');
    expect(xml).toMatch(/<dns>\s*<host ip="172.17.2.2">\s*<hostname>boreas.anemoi.internal<\/hostname>\s*<hostname>boreas<\/hostname>/);
    expect(parseNetworkXml(xml)).toStrictEqual(named);
    expect(buildDnsHostXml(named.dnsHosts![0]!).replace(/\s+/g, "")).toBe(
      '<hostip="172.17.2.2"><hostname>boreas.anemoi.internal</hostname><hostname>boreas</hostname></host>',
    );
  });

  it("plans DNS entries that changed as a delete and an add (libvirt cannot modify one)", () => {
    const a = { ip: "172.17.2.2", hostnames: ["boreas.anemoi.internal", "boreas"] };
    const b = { ip: "172.17.2.3", hostnames: ["zephyrus.anemoi.internal", "zephyrus"] };
    const moved = { ...b, ip: "172.17.2.9" };
    expect(dnsHostChanges([a, b], [a, b])).toEqual({ remove: [], add: [] });
    expect(dnsHostChanges([a, b], [a, moved])).toEqual({ remove: [b], add: [moved] });
    expect(dnsHostChanges([a], [a, b])).toEqual({ remove: [], add: [b] });
    // The order of the names is not a change.
    expect(dnsHostChanges([a], [{ ...a, hostnames: ["boreas", "boreas.anemoi.internal"] }])).toEqual({ remove: [], add: [] });
  });

  it("says which network lacks the IPv4 address", () => {
    const xml = fixture("network-defined.xml").replace("<ip address=", "<ip family='ipv6' address=");
    expect(() => parseNetworkXml(xml)).toThrow("network anemoi: no IPv4 <ip>");
  });
});
