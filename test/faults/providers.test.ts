// Faults at the provider level, against the real libvirtd (in the test bed's namespace) and hosts
// of this test's own: creates interrupted half-way and run again, a network removed under a
// running domain, libvirt or the SSH host unreachable, a base image URL that answers 404, hostile
// values reaching the host, and two stacks changing a shared host setting at once. No guest OS
// boots here: a domain with a blank disk stays in its firmware, which is all these need.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enableIpForward, releaseIpForward, virtualizationCheckProvider, type IpForwardInputs } from "../../host";
import { baseImageProvider, type BaseImageInputs, type BaseImageState } from "../../libvirt/base-image";
import { LocalConnection, type CommandResult, type ConnectionSpec, type HostConnection, type RunOptions } from "../../transport/connection";
import { diskProvider, type DiskInputs } from "../../libvirt/disk";
import { domainProvider, type DomainInputs, type DomainState } from "../../libvirt/domain";
import { natNetworkProvider, type NatNetworkInputs } from "../../libvirt/network";
import { storagePoolProvider, type StoragePoolInputs, type StoragePoolState } from "../../libvirt/pool";
import { seedProvider } from "../../libvirt/seed";
import { buildPoolXml, ownerUuid } from "../../libvirt/xml";
import { useLibvirt, virshOk, virshSync } from "../support/libvirt-fixture";
import { startMirror, type Mirror } from "../../testbed/mirror";
import { startSshd, type TestSshd } from "../support/sshd";

const lv = useLibvirt();
const owner = { project: "vm-cluster", stack: "faults", cluster: "vmcfault" };
const POOL = "vmcfault-pool";
const FOREIGN_POOL = "vmcfault-foreign-pool";
const USER_DIR_POOL = "vmcfault-user-dir-pool";
const HOSTILE_POOLS = ["vmcfault-hostile-pool", "vmcfault-hostile-ssh-pool"];
const NET = "vmcfault-net";
const BRIDGE = "vmcfault-br0";
const DOMAIN = "vmcfault-dom";
const MIRROR_PORT = 18_171;
const SSHD_SUBNET = 9;
const CANARY = `vmcfault-canary-${process.pid}`;
const MiB = 1024 ** 2;

let work: string;
let image: string;
let imageSha512: string;
let mirror: Mirror | undefined;
let sshd: TestSshd | undefined;
const ipfNetns = `vmcfault-ipf-${process.pid}`;
let ipfNetnsMade = false;

const ns = (...argv: string[]) => execFileSync("ip", ["netns", "exec", lv.netns(), ...argv], { encoding: "utf8" });
const poolInputs = (over: Partial<StoragePoolInputs> = {}): StoragePoolInputs => ({
  target: lv.target(),
  name: POOL,
  path: path.join(work, "pool"),
  owner,
  ...over,
});
const poolDir = () => path.join(work, "pool");
/** An sshd of this test's own, in a namespace of its own (reached over a veth pair). */
const ensureSshd = async () => (sshd ??= await startSshd("faults", SSHD_SUBNET));

/** Where a `$(cd;touch …)` or backtick in a value would have left the canary. */
function canaryFound(): string[] {
  return [homedir(), "/root", "/", process.cwd(), "/tmp", work].map((d) => path.join(d, CANARY)).filter((f) => existsSync(f) || existsSync(`${f}2`));
}

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "vmc-faults-"));
  chmodSync(work, 0o755); // QEMU runs as another user
  image = path.join(work, "test-image.qcow2");
  execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", image, "64M"]);
  imageSha512 = createHash("sha512").update(readFileSync(image)).digest("hex");
});

afterAll(async () => {
  // Whatever a failed test left, in reverse order of dependence; each step on its own.
  const steps: (() => unknown)[] = [
    () => virshOk("destroy", DOMAIN),
    () => virshOk("undefine", DOMAIN, "--nvram"),
    () => virshOk("net-destroy", NET),
    () => virshOk("net-undefine", NET),
  ];
  for (const pool of [POOL, FOREIGN_POOL, USER_DIR_POOL, ...HOSTILE_POOLS]) {
    steps.push(() => {
      if (!virshOk("pool-info", pool)) return;
      for (const vol of virshSync("vol-list", pool)
        .split("\n")
        .map((l) => l.trim().split(/\s+/)[0])
        .filter(Boolean))
        virshOk("vol-delete", "--pool", pool, vol!);
      virshOk("pool-destroy", pool);
      virshOk("pool-undefine", pool);
    });
  }
  steps.push(
    () => mirror?.stop(),
    () => sshd?.stop(),
    () => ipfNetnsMade && execFileSync("ip", ["netns", "delete", ipfNetns]),
    () => rmSync(work, { recursive: true, force: true }),
  );
  for (const step of steps) {
    try {
      await step();
    } catch {
      /* the next one still runs */
    }
  }
});

/** The test network on 10.231.63.0/24, reached through `target`. */
function testNetwork(target: NatNetworkInputs["target"], hosts: NatNetworkInputs["hosts"]): NatNetworkInputs {
  return {
    target,
    name: NET,
    bridge: BRIDGE,
    address: "10.231.63.1",
    netmask: "255.255.255.0",
    dhcpStart: "10.231.63.2",
    dhcpEnd: "10.231.63.254",
    hosts,
    owner,
  };
}

describe("an interrupted create is finished on the next up, when the pool proves the objects ours", () => {
  let pool: StoragePoolState;
  let base: BaseImageState;
  const baseInputs = (over: Partial<BaseImageInputs> = {}): BaseImageInputs => ({
    target: lv.target(),
    pool: POOL,
    name: "vmcfault-base.qcow2",
    url: `file://${image}`,
    sha512: imageSha512,
    fileName: "test-image.qcow2",
    cacheDir: path.join(work, "cache"),
    owner,
    ...over,
  });
  const diskInputs = (over: Partial<DiskInputs> = {}): DiskInputs => ({
    target: lv.target(),
    pool: POOL,
    name: "vmcfault-vm1.qcow2",
    capacityBytes: 128 * MiB,
    backingPath: base.path,
    owner,
    ...over,
  });

  it("pool: defined by a run killed before pool-build, it is built, started and autostarted, and its directory removed on delete", async () => {
    const file = path.join(work, "pool.xml");
    writeFileSync(
      file,
      buildPoolXml({ name: POOL, uuid: ownerUuid(owner, POOL), target: { path: poolDir(), permissions: { mode: "0755", owner: 0, group: 0 } } }),
    );
    virshSync("pool-define", file);
    pool = (await storagePoolProvider.create(poolInputs())).outs as StoragePoolState;
    expect(pool).toMatchObject({ active: true, autostart: true, createdDir: true });
    expect(virshSync("pool-info", POOL)).toMatch(/State:\s+running[\s\S]*Autostart:\s+yes/);
  });

  it("pool: over an empty directory that was there, defined by a run killed before it started: adopted, and delete leaves the directory", async () => {
    const dir = path.join(work, "users-empty-dir");
    mkdirSync(dir);
    // The create over an existing directory was under way: the pool exists, its UUID made for that case.
    const made = (await storagePoolProvider.create(poolInputs({ name: USER_DIR_POOL, path: dir }))).outs as StoragePoolState;
    expect(made.createdDir).toBe(false);
    const uuid = virshSync("pool-uuid", USER_DIR_POOL).trim();
    virshSync("pool-destroy", USER_DIR_POOL);
    const adopted = (await storagePoolProvider.create(poolInputs({ name: USER_DIR_POOL, path: dir }))).outs as StoragePoolState;
    expect(adopted).toMatchObject({ active: true, autostart: true, createdDir: false });
    expect(virshSync("pool-uuid", USER_DIR_POOL).trim()).toBe(uuid);
    await storagePoolProvider.delete!(USER_DIR_POOL, adopted);
    expect(virshOk("pool-info", USER_DIR_POOL)).toBe(false);
    expect(existsSync(dir)).toBe(true);
  });

  it("pool: one of the same name without this stack's UUID is refused, untouched", async () => {
    mkdirSync(path.join(work, "foreign"));
    virshSync("pool-define-as", FOREIGN_POOL, "dir", "--target", path.join(work, "foreign"));
    await expect(storagePoolProvider.create(poolInputs({ name: FOREIGN_POOL, path: path.join(work, "foreign") }))).rejects.toThrow(
      /storage pool named "vmcfault-foreign-pool" already exists and this stack did not create it/,
    );
    expect(virshSync("pool-info", FOREIGN_POOL)).toMatch(/State:\s+inactive/);
  });

  it("base image: a complete copy left behind is kept as it is; a partial one is copied again and verified", async () => {
    base = (await baseImageProvider.create(baseInputs())).outs as BaseImageState;
    expect(base.virtualSize).toBe(64 * MiB);
    const inode = statSync(base.path).ino;
    // The state lost the create (pending create cleared): the same create runs again.
    const again = (await baseImageProvider.create(baseInputs())).outs as BaseImageState;
    expect(again.path).toBe(base.path);
    expect(statSync(base.path).ino).toBe(inode);
    // Killed during the copy: a truncated file under the volume's name.
    truncateSync(base.path, 4096);
    virshSync("pool-refresh", POOL);
    await baseImageProvider.create(baseInputs());
    expect(createHash("sha512").update(readFileSync(base.path)).digest("hex")).toBe(imageSha512);
  });

  it("disk: an overlay left behind is kept, grown to the configured size; one over another image is refused", async () => {
    await diskProvider.create(diskInputs());
    const again = (await diskProvider.create(diskInputs())) as { outs: { path: string } };
    expect(again.outs.path).toBe(path.join(poolDir(), "vmcfault-vm1.qcow2"));
    await diskProvider.create(diskInputs({ capacityBytes: 192 * MiB }));
    expect(JSON.parse(execFileSync("qemu-img", ["info", "--output=json", "-U", again.outs.path], { encoding: "utf8" }))["virtual-size"]).toBe(192 * MiB);
    await expect(diskProvider.create(diskInputs({ capacityBytes: 192 * MiB, backingPath: image }))).rejects.toThrow(
      /disk volume vmcfault-vm1\.qcow2 in pool vmcfault-pool, left by an interrupted run, is an overlay of .*vmcfault-base\.qcow2, not of .*test-image\.qcow2/,
    );
  });

  it("disk: check refuses one smaller than the base image's virtual size, naming both and the fix", async () => {
    const small = await diskProvider.check!({} as DiskInputs, diskInputs({ capacityBytes: 32 * MiB, minimumBytes: base.virtualSize }));
    expect(small.failures).toEqual([
      {
        property: "capacityBytes",
        reason:
          "the disk (33554432 bytes) is smaller than the base image's virtual size (67108864 bytes): the guest would not boot; set defaults.disk (or this VM's vms[].disk) to at least 1G",
      },
    ]);
    expect((await diskProvider.check!({} as DiskInputs, diskInputs({ minimumBytes: base.virtualSize }))).failures).toEqual([]);
  });

  it("seed: one left behind (maybe half uploaded) is written anew", async () => {
    const docs = { userData: "#cloud-config\n", metaData: "instance-id: x\n", networkConfig: "version: 2\n" };
    const inputs = { target: lv.target(), pool: POOL, name: "vmcfault-vm1-cidata.iso", owner, ...docs };
    await seedProvider.create(inputs);
    truncateSync(path.join(poolDir(), inputs.name), 10);
    await seedProvider.create(inputs);
    expect(statSync(path.join(poolDir(), inputs.name)).size).toBeGreaterThan(10);
  });

  it("volumes: in a pool without this stack's UUID a taken name is refused, whoever made it", async () => {
    virshSync("pool-start", FOREIGN_POOL);
    virshSync("vol-create-as", FOREIGN_POOL, "vmcfault-vm1.qcow2", "1M", "--format", "qcow2");
    await expect(diskProvider.create(diskInputs({ pool: FOREIGN_POOL }))).rejects.toThrow(
      /volume named "vmcfault-vm1\.qcow2" already exists and this stack did not create it/,
    );
    await expect(diskProvider.create(diskInputs({ owner: { ...owner, stack: "other" } }))).rejects.toThrow(/did not create it/);
  });
});

describe("the network removed behind Pulumi's back while a VM runs", () => {
  let netInputs: NatNetworkInputs;
  let dom: DomainState;
  const tap = () => virshSync("domiflist", DOMAIN).trim().split(/\s+/)[0]!;
  const onBridge = () => ns("ip", "-o", "link", "show", "master", BRIDGE);

  beforeAll(async () => {
    netInputs = testNetwork(lv.target(), [{ mac: "52:54:00:63:00:01", name: "vm1", ip: "10.231.63.10" }]);
    await natNetworkProvider.create(netInputs);
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", path.join(work, "blank.qcow2"), "16M"]);
    writeFileSync(path.join(work, "seed.iso"), Buffer.alloc(64 * 1024));
    const domInputs: DomainInputs = {
      target: lv.target(),
      name: DOMAIN,
      type: "qemu",
      memoryMiB: 64,
      vcpus: 1,
      diskPath: path.join(work, "blank.qcow2"),
      seedPath: path.join(work, "seed.iso"),
      network: NET,
      mac: "52:54:00:63:00:01",
      consoleLog: path.join(work, "console.log"),
      owner,
      shutdownTimeoutSeconds: 1,
    };
    dom = (await domainProvider.create(domInputs)).outs as DomainState;
    expect(onBridge()).toContain(tap());
  });

  it("refresh sees it gone; the next create makes it again and plugs the running VM back into the new bridge", async () => {
    virshSync("net-destroy", NET);
    virshSync("net-undefine", NET);
    expect((await natNetworkProvider.read!(NET, { ...netInputs, active: true, autostart: true })).id).toBeUndefined();
    await natNetworkProvider.create(netInputs);
    expect(onBridge()).toContain(` ${tap()}: `);
  });

  it("stopped by hand: the update starts it and plugs the VM back in too", async () => {
    virshSync("net-destroy", NET);
    const read = (await natNetworkProvider.read!(NET, { ...netInputs, active: true, autostart: true })).props!;
    expect(read.active).toBe(false);
    await natNetworkProvider.update!(NET, read as never, netInputs);
    expect(onBridge()).toContain(` ${tap()}: `);
  });

  it("restarted by hand (net-destroy, net-start) under a running VM: refresh sees it unplugged, the update plugs it back", async () => {
    virshSync("net-destroy", NET);
    virshSync("net-start", NET);
    expect(onBridge()).not.toContain(` ${tap()}: `);
    const read = (await natNetworkProvider.read!(NET, { ...netInputs, active: true, autostart: true, plugged: true })).props!;
    expect(read).toMatchObject({ active: true, plugged: false });
    expect((await natNetworkProvider.diff!(NET, read as never, netInputs)).changes).toBe(true);
    await natNetworkProvider.update!(NET, read as never, netInputs);
    expect(onBridge()).toContain(` ${tap()}: `);
    const again = (await natNetworkProvider.read!(NET, read as never)).props!;
    expect(again.plugged).toBe(true);
    expect((await natNetworkProvider.diff!(NET, again as never, netInputs)).changes).toBe(false);
  });

  afterAll(async () => {
    if (dom) await domainProvider.delete!(DOMAIN, dom);
    await natNetworkProvider.delete!(NET, { ...netInputs, active: true, autostart: true });
  });
});

describe("unreachable libvirt, SSH host or image: fails fast, names the cause, works after the fix", () => {
  it("libvirt not running (a socket that does not exist)", async () => {
    const net = testNetwork({ connection: { type: "local", netns: lv.netns() }, uri: "qemu:///system?socket=/run/vmcfault-nowhere/libvirt-sock" }, []);
    const started = Date.now();
    await expect(natNetworkProvider.create(net)).rejects.toThrow(
      /libvirt is not reachable at qemu:\/\/\/system\?socket=\/run\/vmcfault-nowhere\/libvirt-sock on this machine .*No such file or directory.*start libvirtd/,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    // Fixed (the daemon answers): the same create succeeds.
    const fixed = { ...net, target: lv.target() };
    await natNetworkProvider.create(fixed);
    await natNetworkProvider.delete!(NET, { ...fixed, active: true, autostart: true });
  });

  it("SSH host with nothing listening on the port", async () => {
    const bed = await ensureSshd();
    const spec = (port: number): ConnectionSpec => ({ type: "ssh", host: bed.host, port, user: bed.user, privateKey: bed.privateKey, hostKey: bed.hostKey });
    const check = (port: number) => virtualizationCheckProvider.create({ connection: spec(port), domainType: "qemu", kvmDevice: "/dev/kvm" });
    const started = Date.now();
    await expect(check(2222)).rejects.toThrow(
      `could not run \`lscpu\` on root@${bed.host}:2222: SSH: nothing accepts SSH connections on ${bed.host}:2222 (connection refused)`,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await check(22)).outs!.warnings).toEqual([expect.stringMatching(/software emulation/)]);
  });

  it("base image URL that answers 404, then the checksums file; nothing is left behind", async () => {
    const dir = path.join(work, "mirror");
    mkdirSync(dir);
    execFileSync("cp", [image, path.join(dir, "present.qcow2")]);
    mirror = await startMirror(dir, lv.netns(), MIRROR_PORT);
    const inputs = (over: Partial<BaseImageInputs>): BaseImageInputs => ({
      target: lv.target(),
      pool: POOL,
      name: "vmcfault-mirror.qcow2",
      url: `${mirror!.url}missing.qcow2`,
      sha512: imageSha512,
      fileName: "missing.qcow2",
      cacheDir: path.join(work, "mirror-cache"),
      owner,
      ...over,
    });
    const started = Date.now();
    await expect(baseImageProvider.create(inputs({}))).rejects.toThrow(
      `cannot download the base image ${mirror.url}missing.qcow2 on this machine (network namespace ${lv.netns()}): curl: (22) The requested URL returned error: 404; check image.url`,
    );
    await expect(baseImageProvider.create(inputs({ sha512: undefined, checksumsUrl: `${mirror.url}NO-SUMS` }))).rejects.toThrow(
      /cannot download the checksums file .*NO-SUMS .*404; check image\.checksumsUrl/,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(readdirSync(path.join(work, "mirror-cache"))).toEqual([]);
    expect(virshOk("vol-info", "--pool", POOL, "vmcfault-mirror.qcow2")).toBe(false);
    // The file appears on the mirror: the same create succeeds.
    const fixed = inputs({ url: `${mirror.url}present.qcow2`, sha512: undefined, checksumsUrl: mirror.checksumsUrl, fileName: "present.qcow2" });
    const made = (await baseImageProvider.create(fixed)).outs as BaseImageState;
    expect(made.verifiedSha512).toBe(imageSha512);
    await baseImageProvider.delete!(made.name, made);
  });
});

describe("hostile values reach the host as inert data", () => {
  const nastyDir = `it's a "pool";$(cd;touch ${CANARY})\`cd;touch ${CANARY}2\` & | >x`;

  for (const kind of ["local", "ssh"] as const) {
    it(`a pool directory and an image file named with quotes, ;, $() and backticks, over the ${kind} connection`, async () => {
      if (kind === "ssh") await ensureSshd();
      const connection: ConnectionSpec =
        kind === "local"
          ? { type: "local", netns: lv.netns() }
          : { type: "ssh", host: sshd!.host, port: 22, user: sshd!.user, privateKey: sshd!.privateKey, hostKey: sshd!.hostKey };
      const target = { connection };
      const name = HOSTILE_POOLS[kind === "local" ? 0 : 1]!;
      const dir = path.join(work, kind, nastyDir);
      mkdirSync(path.dirname(dir), { recursive: true });
      chmodSync(path.dirname(dir), 0o755);
      const pool = (await storagePoolProvider.create({ target, name, path: dir, owner })).outs as StoragePoolState;
      expect(statSync(dir).isDirectory()).toBe(true);

      const imageName = `img;$(cd;touch ${CANARY})'q'.qcow2`;
      const imageFile = path.join(work, kind, imageName);
      execFileSync("cp", [image, imageFile]);
      const url = `file://${encodeURI(imageFile).replaceAll("'", "%27")}`;
      const base = (
        await baseImageProvider.create({
          target,
          pool: name,
          name: "vmcfault-base.qcow2",
          url,
          sha512: imageSha512,
          fileName: imageName,
          cacheDir: path.join(work, `${kind}-cache`),
          owner,
        })
      ).outs as BaseImageState;
      expect(base.path).toBe(path.join(dir, "vmcfault-base.qcow2"));
      expect(existsSync(base.path)).toBe(true);

      await baseImageProvider.delete!(base.name, base);
      await storagePoolProvider.delete!(name, pool);
      expect(existsSync(dir)).toBe(false);
      expect(canaryFound()).toEqual([]);
    });
  }
});

describe("two stacks switching on ip_forward at the same moment", () => {
  /** A host whose answers to one command come late: the interleaving that loses the first record. */
  class Slow implements HostConnection {
    constructor(
      private readonly real: HostConnection,
      private readonly command: string,
      private readonly ms: number,
    ) {}
    get description() {
      return this.real.description;
    }
    async run(argv: string[], opts?: RunOptions): Promise<CommandResult> {
      if (argv.join(" ").startsWith(this.command)) await new Promise((r) => setTimeout(r, this.ms));
      return this.real.run(argv, opts);
    }
  }

  it("restores the value from before both when the last one leaves, whichever captured later", async () => {
    execFileSync("ip", ["netns", "add", ipfNetns]);
    ipfNetnsMade = true;
    execFileSync("ip", ["netns", "exec", ipfNetns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=0"]);
    const real = new LocalConnection({ type: "local", netns: ipfNetns });
    const dir = path.join(work, "ipf");
    const inputs = (user: string): IpForwardInputs => ({
      connection: { type: "local", netns: ipfNetns },
      user,
      sysctlDir: path.join(dir, "sysctl.d"),
      stateDir: path.join(dir, "state"),
    });
    // A records late (its `ln` waits); B looks for a record before A made it, but reads the value after A set it.
    const a = enableIpForward(new Slow(real, "ln", 500), inputs("p.a"));
    const b = enableIpForward(new Slow(real, "sysctl -n", 1500), inputs("p.b"));
    await Promise.all([a, b]);
    expect(execFileSync("ip", ["netns", "exec", ipfNetns, "sysctl", "-n", "net.ipv4.ip_forward"], { encoding: "utf8" }).trim()).toBe("1");
    await releaseIpForward(real, inputs("p.a"));
    await releaseIpForward(real, inputs("p.b"));
    expect(execFileSync("ip", ["netns", "exec", ipfNetns, "sysctl", "-n", "net.ipv4.ip_forward"], { encoding: "utf8" }).trim()).toBe("0");
    expect(existsSync(path.join(dir, "state"))).toBe(false);
    expect(readdirSync(path.join(dir, "sysctl.d"))).toEqual([]);
  });
});
