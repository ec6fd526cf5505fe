// NAT network provider against a real libvirtd: reservations change live without restarting
// dnsmasq, drift is seen, and nothing that is not ours is taken over.
import { afterAll, describe, expect, it } from "vitest";
import { natNetworkProvider, type NatNetworkInputs, type NatNetworkState } from "../../libvirt/network";
import { buildNetworkXml } from "../../libvirt/xml";
import { stderrOf } from "../support/stderr";
import { useLibvirt, virshOk, virshSync } from "../support/libvirt-fixture";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

const lv = useLibvirt();
const NAME = "vmctest-net";
const owner = { project: "vm-cluster", stack: "test", cluster: "vmctest" };
const hostA = { mac: "52:54:00:00:00:0a", name: "alpha", ip: "10.231.7.10" };
const hostB = { mac: "52:54:00:00:00:0b", name: "beta", ip: "10.231.7.11" };
const hostC = { mac: "52:54:00:00:00:0c", name: "gamma", ip: "10.231.7.12" };

const inputs = (hosts = [hostA, hostB]): NatNetworkInputs => ({
  target: lv.target(),
  name: NAME,
  bridge: "vmctest-br0",
  address: "10.231.7.1",
  netmask: "255.255.255.0",
  dhcpStart: "10.231.7.2",
  dhcpEnd: "10.231.7.254",
  hosts,
  domain: "vmctest.internal",
  dnsHosts: hosts.map((h) => ({ ip: h.ip, hostnames: [`${h.name}.vmctest.internal`, h.name] })),
  owner,
});

/** The names dnsmasq answers from libvirt's DNS host entries, by address. */
function dnsmasqHosts(): string[] {
  return execFileSync("cat", [`/var/lib/libvirt/dnsmasq/${NAME}.addnhosts`], { encoding: "utf8" })
    .split("\n")
    .map((line) => line.trim().replace(/\s+/g, " "))
    .filter(Boolean)
    .sort();
}

/** The pid of the network's dnsmasq: unchanged pid means the network was not restarted. */
function dnsmasqPid(): string {
  return execFileSync("cat", [`/run/libvirt/network/${NAME}.pid`], { encoding: "utf8" }).trim();
}

/** What a user (or an interrupted run) left: a network defined outside the provider. */
function defineByHand(xml: string): void {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "vmc-net-")), "net.xml");
  writeFileSync(file, xml);
  virshSync("net-define", file);
  rmSync(path.dirname(file), { recursive: true });
}

afterAll(() => {
  virshOk("net-destroy", NAME);
  virshOk("net-undefine", NAME);
});

describe("NAT network", () => {
  let state: NatNetworkState;

  it("creates an active, autostarted network with the reservations and our owner marker", async () => {
    state = (await natNetworkProvider.create(inputs())).outs as NatNetworkState;
    const xml = virshSync("net-dumpxml", NAME);
    expect(xml).toContain(`<host mac='${hostA.mac}' name='alpha' ip='${hostA.ip}'/>`);
    expect(xml).toContain("https://vm-cluster.dev/xmlns/owner/1");
    expect(xml).toContain("<domain name='vmctest.internal' localOnly='yes'/>");
    expect(dnsmasqHosts()).toEqual(["10.231.7.10 alpha.vmctest.internal alpha", "10.231.7.11 beta.vmctest.internal beta"]);
    expect(virshSync("net-info", NAME)).toMatch(/Active:\s+yes[\s\S]*Autostart:\s+yes/);
    expect(execFileSync("ip", ["netns", "exec", lv.netns(), "ip", "-o", "addr", "show", "vmctest-br0"], { encoding: "utf8" })).toContain("10.231.7.1/24");
  });

  it("reads back what it wrote: no drift", async () => {
    const read = await natNetworkProvider.read!(NAME, state);
    expect((await natNetworkProvider.diff!(NAME, read.props!, inputs())).changes).toBe(false);
  });

  it("swaps a reservation and its DNS names live, without restarting dnsmasq", async () => {
    const pid = dnsmasqPid();
    const wanted = inputs([hostA, hostC]);
    const diff = await natNetworkProvider.diff!(NAME, state, wanted);
    expect(diff.changes).toBe(true);
    expect(diff.replaces).toEqual([]);
    state = (await natNetworkProvider.update!(NAME, state, wanted)).outs as NatNetworkState;
    const xml = virshSync("net-dumpxml", NAME);
    const persistent = virshSync("net-dumpxml", "--inactive", NAME);
    for (const doc of [xml, persistent]) {
      expect(doc).toContain("name='gamma'");
      expect(doc).not.toContain("name='beta'");
      expect(doc).toContain("<hostname>gamma.vmctest.internal</hostname>");
      expect(doc).not.toContain("<hostname>beta</hostname>");
    }
    expect(dnsmasqHosts()).toEqual(["10.231.7.10 alpha.vmctest.internal alpha", "10.231.7.12 gamma.vmctest.internal gamma"]);
    expect(dnsmasqPid()).toBe(pid);
  });

  it("after a stack rename keeps in state the marker the host has, so delete still knows it ours (review)", async () => {
    const outs = (await natNetworkProvider.update!(NAME, state, { ...state, owner: { ...owner, stack: "renamed" } })).outs as NatNetworkState;
    expect(outs.owner).toEqual(owner);
    expect(virshSync("net-dumpxml", NAME)).toMatch(/<vmc:owner [^>]*stack=["']test["']/);
    state = outs;
  });

  it("replaces the network only when a fixed property changes", async () => {
    const diff = await natNetworkProvider.diff!(NAME, state, { ...inputs([hostA, hostC]), bridge: "vmctest-br1" });
    expect(diff.replaces).toEqual(["bridge"]);
  });

  it("sees a network removed behind its back as gone, and delete still succeeds", async () => {
    virshSync("net-destroy", NAME);
    virshSync("net-undefine", NAME);
    expect((await natNetworkProvider.read!(NAME, state)).id).toBeUndefined();
    await natNetworkProvider.delete!(NAME, state);
  });

  it("refuses a network of the same name that is not marked as this stack's", async () => {
    const foreign = buildNetworkXml({
      name: NAME,
      bridge: { name: "vmctest-br0" },
      ip: { address: "10.231.7.1", netmask: "255.255.255.0", dhcp: { range: { start: "10.231.7.2", end: "10.231.7.254" }, hosts: [] } },
    });
    defineByHand(foreign);
    await expect(natNetworkProvider.create(inputs())).rejects.toThrow(/already exists and this stack did not create it/);
    expect(virshSync("net-info", NAME)).toMatch(/Active:\s+no/); // untouched
    // Nor does destroy touch it (issue 19): ours is gone, this one only has its name.
    const said = await stderrOf(() => natNetworkProvider.delete!(NAME, state));
    expect(said).toMatch(new RegExp(`warning: network ${NAME} is not the one this stack created .*virsh net-undefine ${NAME}`));
    expect(virshSync("net-info", NAME)).toMatch(/Active:\s+no/);
    virshSync("net-undefine", NAME);
  });

  it("takes over its own network left by an interrupted run and converges it", async () => {
    const ours = buildNetworkXml({
      name: NAME,
      metadata: { owner },
      bridge: { name: "vmctest-br0" },
      domain: "vmctest.internal",
      ip: { address: "10.231.7.1", netmask: "255.255.255.0", dhcp: { range: { start: "10.231.7.2", end: "10.231.7.254" }, hosts: [hostB] } },
    });
    defineByHand(ours);
    state = (await natNetworkProvider.create(inputs([hostA]))).outs as NatNetworkState;
    const xml = virshSync("net-dumpxml", NAME);
    expect(xml).toContain("name='alpha'");
    expect(xml).not.toContain("name='beta'");
    await natNetworkProvider.delete!(NAME, state);
    expect(virshOk("net-info", NAME)).toBe(false);
  });
});
