import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildDomainXml, buildNetworkXml, buildPoolXml, buildVolumeXml } from "../../libvirt/xml";
import { domain, network, overlay, pool, seed } from "./xml-samples";

// libvirt's own RELAX NG schemas judge what we build; virt-xml-validate (libvirt-clients) needs
// xmllint (libxml2-utils). Without them there is nothing to run, so the checks are skipped.
const validatorPresent = ["virt-xml-validate", "xmllint"].every((tool) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0);
const dir = mkdtempSync(join(tmpdir(), "vmc-xml-schema-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// xmllint reports on stderr, "<file> validates" or the first schema violation.
function validate(schema: string, name: string, xml: string): string {
  const file = join(dir, `${name}.xml`);
  writeFileSync(file, xml);
  return spawnSync("virt-xml-validate", [file, schema], { encoding: "utf8" }).stderr.trim();
}

describe.skipIf(!validatorPresent)("built XML against libvirt's schemas", () => {
  it.each([
    ["storagepool", "pool", buildPoolXml(pool)],
    ["storagevol", "overlay", buildVolumeXml(overlay)],
    ["storagevol", "seed", buildVolumeXml(seed)],
    ["network", "network", buildNetworkXml(network)],
    ["domain", "domain-qemu", buildDomainXml(domain)],
    ["domain", "domain-kvm", buildDomainXml({ ...domain, type: "kvm" })],
    [
      "network",
      "network-dns",
      buildNetworkXml({ ...network, domain: "anemoi.internal", dnsHosts: [{ ip: "172.17.2.2", hostnames: ["boreas.anemoi.internal", "boreas"] }] }),
    ],
    [
      "domain",
      "domain-data-disks",
      buildDomainXml({
        ...domain,
        devices: {
          ...domain.devices,
          disks: [
            ...domain.devices.disks,
            { driver: { type: "raw" }, source: { file: "/p/anemoi-boreas_ceph.raw" }, target: { dev: "vdc" }, readonly: false, serial: "ceph" },
          ],
          pcieRootPorts: 16,
        },
      }),
    ],
    ["storagevol", "data-disk", buildVolumeXml({ name: "anemoi-boreas_ceph.raw", capacity: 2 ** 30, allocation: 0, target: { format: { type: "raw" } } })],
  ])("%s: %s validates", (schema, name, xml) => {
    expect(validate(schema, name, xml)).toBe(`${join(dir, name)}.xml validates`);
  });
});
