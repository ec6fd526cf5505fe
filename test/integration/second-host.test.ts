// The second libvirt host of the multi-host tests (testbed/second-host.ts), beside the test bed's
// libvirtd as the first: independent of it, reached over their LAN by SSH with a pinned host key,
// and gone without a trace when stopped.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alive } from "../../testbed/host-state";
import { startSecondHost, type SecondHost } from "../../testbed/second-host";
import { useLibvirt, virshOk, virshSync } from "../support/libvirt-fixture";

const lv = useLibvirt();
let host2: SecondHost;
let dir: string;

const safeReadlink = (p: string) => {
  try {
    return readlinkSync(p);
  } catch {
    return undefined;
  }
};
const names = (text: string) =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
const onHost2 = (...args: string[]) => host2.run(["virsh", "-q", "-c", "qemu:///system", ...args]);

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "vmc-host2-test-"));
  host2 = await startSecondHost({ lanNetns: lv.netns(), lan: 5 });
});

afterAll(async () => {
  await host2?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("a second libvirt host on this machine", () => {
  it("runs a libvirtd of its own: neither host sees the other's pools or networks, and it starts with none", async () => {
    expect(names(onHost2("net-list", "--all", "--name"))).toEqual([]);
    expect(names(onHost2("pool-list", "--all", "--name"))).toEqual([]);
    const netXml = path.join(dir, "net.xml");
    writeFileSync(netXml, "<network><name>vmch2-net</name><bridge name='vmch2br'/><ip address='10.232.250.1' netmask='255.255.255.0'/></network>");
    onHost2("net-define", netXml);
    try {
      expect(names(onHost2("net-list", "--all", "--name"))).toEqual(["vmch2-net"]);
      expect(names(virshSync("net-list", "--all", "--name"))).not.toContain("vmch2-net");
    } finally {
      onHost2("net-undefine", "vmch2-net");
    }
    onHost2("pool-define-as", "vmch2-probe", "dir", "--target", "/var/lib/libvirt/images/vmch2-probe");
    virshSync("pool-define-as", "vmch1-probe", "dir", "--target", "/var/lib/libvirt/images/vmch1-probe");
    try {
      expect(names(onHost2("pool-list", "--all", "--name"))).toEqual(["vmch2-probe"]);
      expect(names(virshSync("pool-list", "--all", "--name"))).not.toContain("vmch2-probe");
    } finally {
      onHost2("pool-undefine", "vmch2-probe");
      virshSync("pool-undefine", "vmch1-probe");
    }
    expect(virshOk("pool-info", "vmch1-probe")).toBe(false);
  });

  it("answers SSH from the first host's namespace on its LAN address, with its host key, and commands act on it", async () => {
    const key = path.join(dir, "key");
    writeFileSync(key, host2.privateKey, { mode: 0o600 });
    const knownHosts = path.join(dir, "known_hosts");
    writeFileSync(knownHosts, `${host2.address} ${host2.hostKey}\n`);
    onHost2("pool-define-as", "vmch2-over-ssh", "dir", "--target", "/var/lib/libvirt/images/vmch2-over-ssh");
    try {
      const ssh = [
        "ssh",
        "-i",
        key,
        "-o",
        "BatchMode=yes",
        "-o",
        `UserKnownHostsFile=${knownHosts}`,
        "-o",
        "StrictHostKeyChecking=yes",
        `root@${host2.address}`,
      ];
      const out = execFileSync(
        "ip",
        ["netns", "exec", lv.netns(), ...ssh, "virsh -q -c qemu:///system pool-list --all --name; ip -br addr show scope global"],
        { encoding: "utf8" },
      );
      expect(names(out)[0]).toBe("vmch2-over-ssh");
      expect(out).toMatch(new RegExp(`\\b${host2.address.replaceAll(".", "\\.")}/24\\b`));
    } finally {
      onHost2("pool-undefine", "vmch2-over-ssh");
    }
  });

  it("stops without a trace: its processes, the veth pair and its mounts go; the first host keeps running", async () => {
    const processes = host2.processes();
    expect(processes.length).toBeGreaterThanOrEqual(3); // virtlogd, libvirtd, sshd
    // Its own mounts live in its own mount namespace, which goes with its last process.
    expect(readFileSync(`/proc/${host2.pid}/mountinfo`, "utf8")).toMatch(/ \/var\/lib\/libvirt .* vmc-host2 /);
    const mountNs = readlinkSync(`/proc/${host2.pid}/ns/mnt`);
    await host2.stop();
    expect(processes.filter(alive)).toEqual([]);
    expect(alive(host2.pid)).toBe(false);
    const inMountNs = readdirSync("/proc").filter((p) => /^\d+$/.test(p) && safeReadlink(`/proc/${p}/ns/mnt`) === mountNs);
    expect(inMountNs).toEqual([]);
    expect(() => execFileSync("ip", ["-n", lv.netns(), "link", "show", "vmch5a"], { stdio: "ignore" })).toThrow();
    expect(virshSync("version")).toMatch(/libvirt/i);
  });
});
