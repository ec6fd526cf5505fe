import { describe, expect, it } from "vitest";
import { dhcpHostChanges, type DhcpHost } from "../../libvirt/xml";

const boreas: DhcpHost = { mac: "52:54:00:aa:bb:01", name: "boreas", ip: "172.17.2.2" };
const zephyrus: DhcpHost = { mac: "52:54:00:aa:bb:02", name: "zephyrus", ip: "172.17.2.3" };
const notus: DhcpHost = { mac: "52:54:00:aa:bb:03", name: "notus", ip: "172.17.2.4" };

describe("dhcpHostChanges", () => {
  it("changes nothing when the reservations are as wanted, in any order and MAC case", () => {
    const current = [{ ...zephyrus, mac: zephyrus.mac?.toUpperCase() }, boreas];
    expect(dhcpHostChanges(current, [boreas, zephyrus])).toStrictEqual({ remove: [], modify: [], add: [] });
  });

  it("adds a new VM's reservation and removes a dropped VM's", () => {
    expect(dhcpHostChanges([boreas, zephyrus], [boreas, notus])).toStrictEqual({ remove: [zephyrus], modify: [], add: [notus] });
  });

  it("modifies a VM's reservation in place when its IP or name changes", () => {
    const moved = { ...notus, ip: "172.17.2.40" };
    const renamed = { ...boreas, name: "boreas2" };
    expect(dhcpHostChanges([boreas, notus], [renamed, moved])).toStrictEqual({ remove: [], modify: [renamed, moved], add: [] });
  });

  // libvirt's modify rewrites the first entry matching the new IP, so with zephyrus listed first
  // "boreas takes .3" would overwrite zephyrus: one of the two must be deleted and re-added.
  it("deletes and re-adds instead of modifying when two VMs swap addresses", () => {
    const boreasOnZephyrusIp = { ...boreas, ip: zephyrus.ip };
    const zephyrusOnBoreasIp = { ...zephyrus, ip: boreas.ip };
    const changes = dhcpHostChanges([zephyrus, boreas], [boreasOnZephyrusIp, zephyrusOnBoreasIp]);
    expect(changes).toStrictEqual({ remove: [zephyrus], modify: [boreasOnZephyrusIp], add: [zephyrusOnBoreasIp] });
  });

  // Once the old holder of the IP is removed first, a plain modify is safe.
  it("modifies when the IP it takes belongs to a reservation being removed", () => {
    const boreasOnZephyrusIp = { ...boreas, ip: zephyrus.ip };
    expect(dhcpHostChanges([zephyrus, boreas], [boreasOnZephyrusIp])).toStrictEqual({
      remove: [zephyrus],
      modify: [boreasOnZephyrusIp],
      add: [],
    });
  });

  it("replaces a reservation whose VM got a new MAC", () => {
    const newMac = { ...boreas, mac: "52:54:00:aa:bb:99" };
    expect(dhcpHostChanges([boreas], [newMac])).toStrictEqual({ remove: [boreas], modify: [], add: [newMac] });
  });

  it("removes hand-made reservations: one without a MAC, and a second one for the same MAC", () => {
    const byName: DhcpHost = { name: "boreas", ip: "172.17.2.9" };
    const duplicate = { ...boreas, ip: "172.17.2.99", name: "other" };
    expect(dhcpHostChanges([byName, boreas, duplicate], [boreas])).toStrictEqual({ remove: [byName, duplicate], modify: [], add: [] });
  });

  it("refuses wanted reservations that libvirt would refuse for sharing an IP", () => {
    expect(() => dhcpHostChanges([], [boreas, { ...zephyrus, ip: boreas.ip }])).toThrow(/share the same IP/);
  });
});
