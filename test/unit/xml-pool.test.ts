import { describe, expect, it } from "vitest";
import { buildPoolXml, parsePoolXml } from "../../libvirt/xml";
import { fixture, pool } from "./xml-samples";

describe("pool XML", () => {
  it("reads back what it builds", () => {
    expect(parsePoolXml(buildPoolXml(pool))).toStrictEqual(pool);
  });

  it("builds a dir pool with the directory's permissions", () => {
    const xml = buildPoolXml(pool);
    expect(xml).toContain('<pool type="dir">');
    expect(xml).toMatch(/<permissions>\s*<mode>0755<\/mode>\s*<owner>0<\/owner>\s*<group>0<\/group>\s*<\/permissions>/);
  });

  // What libvirt adds (uuid, sizes, an empty source) must not read as drift.
  it("reads pool-dumpxml of a started pool as the pool we defined", () => {
    expect(parsePoolXml(fixture("pool.xml"))).toStrictEqual(pool);
  });

  // libvirt prints the mode as four octal digits: "755" would read back as "0755", a change forever.
  it("refuses a mode libvirt would print differently", () => {
    const sloppy = { ...pool, target: { ...pool.target, permissions: { ...pool.target.permissions, mode: "755" } } };
    expect(() => buildPoolXml(sloppy)).toThrow(/four octal digits/);
  });

  it("refuses XML of another kind of object", () => {
    expect(() => parsePoolXml(fixture("volume-seed.xml"))).toThrow(/expected a libvirt <pool> document, found <volume>/);
  });
});
