import { describe, expect, it } from "vitest";
import {
  buildDhcpHostXml,
  buildDomainXml,
  buildNetworkXml,
  buildPoolXml,
  buildVolumeXml,
  parseDomainXml,
  parseNetworkXml,
  parseOwner,
  parsePoolXml,
  parseVolumeXml,
} from "../../libvirt/xml";
import { domain, fixture, network, overlay, pool } from "./xml-samples";

// Markup characters and both quotes, in text and in attribute values: the library escapes them.
const nasty = `a<b>&c"d'e`;

describe("XML escaping", () => {
  it("round-trips markup characters in element text and attributes of every object", () => {
    const nastyPool = { ...pool, target: { ...pool.target, path: `/srv/${nasty}` } };
    expect(parsePoolXml(buildPoolXml(nastyPool))).toStrictEqual(nastyPool);

    const nastyVolume = { ...overlay, backingStore: { ...overlay.backingStore!, path: `/srv/${nasty}.qcow2` } };
    expect(parseVolumeXml(buildVolumeXml(nastyVolume))).toStrictEqual(nastyVolume);

    const nastyNetwork = { ...network, metadata: { owner: { project: nasty, stack: nasty, cluster: nasty } } };
    expect(parseNetworkXml(buildNetworkXml(nastyNetwork))).toStrictEqual(nastyNetwork);

    const disk = { ...domain.devices.disks[0]!, source: { file: `/srv/${nasty}.qcow2` } };
    const nastyDomain = { ...domain, name: nasty, devices: { ...domain.devices, disks: [disk] } };
    expect(parseDomainXml(buildDomainXml(nastyDomain))).toStrictEqual(nastyDomain);
  });

  it("never lets a value close its quote or open an element", () => {
    const xml = buildDhcpHostXml({ name: nasty, ip: "172.17.2.2" });
    expect(xml).toBe('<host name="a&lt;b&gt;&amp;c&quot;d&apos;e" ip="172.17.2.2"/>');
  });

  // libvirt writes single-quoted attributes, libxml2 (for <metadata>) numeric character references.
  it("decodes libvirt's quoting and character references", () => {
    const xml = fixture("network-defined.xml").replace('stack="anemoi"', "stack='an&#101;m&#x6f;i &amp; &apos;co&apos;'");
    expect(parseOwner(xml)?.stack).toBe("anemoi & 'co'");
  });

  it("keeps surrounding spaces of values", () => {
    const spaced = { ...pool, target: { ...pool.target, path: " /srv/pool " } };
    expect(parsePoolXml(buildPoolXml(spaced)).target.path).toBe(" /srv/pool ");
  });

  it("refuses XML that is not well-formed", () => {
    expect(() => parsePoolXml("<pool type='dir'><name>x</pool>")).toThrow(/not well-formed XML/);
  });
});
