import { describe, expect, it } from "vitest";
import { buildVolumeXml, parseVolumeXml, type Volume } from "../../libvirt/xml";
import { fixture, overlay, seed } from "./xml-samples";

describe("volume XML", () => {
  it("reads back an overlay and a seed volume", () => {
    expect(parseVolumeXml(buildVolumeXml(overlay))).toStrictEqual(overlay);
    expect(parseVolumeXml(buildVolumeXml(seed))).toStrictEqual(seed);
  });

  it("gives capacity in bytes and the overlay its backing file by path", () => {
    const xml = buildVolumeXml(overlay);
    expect(xml).toContain('<capacity unit="bytes">37580963840</capacity>');
    expect(xml).toMatch(
      /<backingStore>\s*<path>\/var\/cache\/vm-cluster\/images\/debian-13-genericcloud-amd64.qcow2<\/path>\s*<format type="qcow2"\/>\s*<\/backingStore>/,
    );
  });

  // qcow2 v3, as the test bed's overlays are made; raw and iso files have no such version.
  it("asks for compat 1.1 on qcow2 targets only", () => {
    expect(buildVolumeXml(overlay)).toMatch(/<target>\s*<format type="qcow2"\/>\s*<compat>1.1<\/compat>\s*<\/target>/);
    expect(buildVolumeXml(seed)).not.toContain("compat");
  });

  it("reads vol-dumpxml of an overlay as the volume we created", () => {
    expect(parseVolumeXml(fixture("volume-overlay.xml"))).toStrictEqual(overlay);
  });

  // After vol-upload libvirt probes the content: an ISO reads back as iso whatever it was created as.
  it("reads vol-dumpxml of an uploaded seed ISO as format iso", () => {
    expect(parseVolumeXml(fixture("volume-seed.xml"))).toStrictEqual(seed);
  });

  it("converts libvirt's capacity units to bytes", () => {
    const xml = buildVolumeXml(seed).replace('<capacity unit="bytes">378880</capacity>', "<capacity unit='G'>35</capacity>");
    expect(parseVolumeXml(xml).capacity).toBe(35 * 2 ** 30);
    expect(parseVolumeXml(xml.replace("unit='G'", "unit='GB'")).capacity).toBe(35e9);
  });

  it("refuses a capacity that is not a whole number of bytes", () => {
    const bad: Volume = { ...seed, capacity: 1.5 };
    expect(() => buildVolumeXml(bad)).toThrow(/whole number of bytes/);
  });

  it("names the volume when its format is one we do not handle", () => {
    const vmdk = fixture("volume-seed.xml").replace("type='iso'", "type='vmdk'");
    expect(() => parseVolumeXml(vmdk)).toThrow("volume boreas-seed.iso: format 'vmdk' is not one of qcow2, raw, iso");
  });
});
