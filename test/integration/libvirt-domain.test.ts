// Domain provider against a real libvirtd (software emulation, tiny memory). The guest needs no
// OS for these checks: a blank disk keeps it in the firmware, which is all a domain's life cycle needs.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diskProvider, type DiskState } from "../../libvirt/disk";
import { domainProvider, domainXml, type DomainInputs, type DomainState } from "../../libvirt/domain";
import { natNetworkProvider, type NatNetworkInputs } from "../../libvirt/network";
import { stderrOf } from "../support/stderr";
import { useLibvirt, virshOk, virshSync } from "../support/libvirt-fixture";

const lv = useLibvirt();
const NAME = "vmctest-dom";
const NET = "vmctest-domnet";
const POOL = "vmctest-dompool";
const owner = { project: "vm-cluster", stack: "test", cluster: "vmctest" };
let work: string;
let net: NatNetworkInputs;

const inputs = (over: Partial<DomainInputs> = {}): DomainInputs => ({
  target: lv.target(),
  name: NAME,
  type: "qemu",
  memoryMiB: 64,
  vcpus: 1,
  diskPath: path.join(work, "disk.qcow2"),
  seedPath: path.join(work, "seed.iso"),
  network: NET,
  mac: "52:54:00:aa:bb:01",
  consoleLog: path.join(work, "console.log"),
  owner,
  shutdownTimeoutSeconds: 2,
  ...over,
});

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "vmc-dom-"));
  execFileSync("chmod", ["0755", work]); // qemu runs as another user
  execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", path.join(work, "disk.qcow2"), "16M"]);
  writeFileSync(path.join(work, "seed.iso"), Buffer.alloc(64 * 1024));
  net = {
    target: lv.target(),
    name: NET,
    bridge: "vmctest-dbr0",
    address: "10.231.8.1",
    netmask: "255.255.255.0",
    dhcpStart: "10.231.8.2",
    dhcpEnd: "10.231.8.254",
    hosts: [],
    owner,
  };
  await natNetworkProvider.create(net);
});

afterAll(async () => {
  virshOk("pool-destroy", POOL);
  virshOk("destroy", NAME);
  virshOk("undefine", NAME, "--nvram");
  await natNetworkProvider.delete!(NET, { ...net, active: true, autostart: true });
  rmSync(work, { recursive: true, force: true });
});

describe("domain", () => {
  let state: DomainState;

  it("defines and starts the domain with our marker, disks as files and the reserved MAC", async () => {
    state = (await domainProvider.create(inputs())).outs as DomainState;
    expect(virshSync("domstate", NAME).trim()).toBe("running");
    const xml = virshSync("dumpxml", NAME);
    expect(xml).toContain("https://vm-cluster.dev/xmlns/owner/1");
    expect(xml).toMatch(/<disk type='file' device='disk'>[\s\S]*disk\.qcow2/);
    expect(xml).toMatch(/<readonly\/>/);
    expect(xml).toContain("52:54:00:aa:bb:01");
    expect(xml).toContain(`<log file='${path.join(work, "console.log")}'`);
    expect(existsSync(path.join(work, "console.log"))).toBe(true);
  });

  it("reads back no drift", async () => {
    const read = await domainProvider.read!(NAME, state);
    expect(read.props!.running).toBe(true);
    expect((await domainProvider.diff!(NAME, read.props!, inputs())).changes).toBe(false);
  });

  it("applies a memory change by redefining and restarting, in place", async () => {
    const wanted = inputs({ memoryMiB: 96 });
    const diff = await domainProvider.diff!(NAME, state, wanted);
    expect(diff.changes).toBe(true);
    expect(diff.replaces).toEqual([]);
    const startedBefore = state.startedAt;
    state = (await domainProvider.update!(NAME, state, wanted)).outs as DomainState;
    expect(virshSync("dominfo", NAME)).toMatch(/Max memory:\s+98304 KiB/);
    // Restarted: whatever waits for the guest (readiness) sees a new start.
    expect(state.startedAt > startedBefore).toBe(true);
    expect(virshSync("domstate", NAME).trim()).toBe("running");
  });

  it("after a stack rename keeps in state the marker the host has, so delete still knows it ours; a redefine writes the new one (review)", async () => {
    const renamed = { ...owner, stack: "renamed" };
    const marker = () => /<vmc:owner [^>]*stack=["']([^"']+)["']/.exec(virshSync("dumpxml", NAME))?.[1];
    const same = (await domainProvider.update!(NAME, state, { ...state, owner: renamed })).outs as DomainState;
    expect(same.owner).toEqual(owner);
    expect(marker()).toBe("test");
    const redefined = (await domainProvider.update!(NAME, same, { ...same, owner: renamed, memoryMiB: same.memoryMiB + 16 })).outs as DomainState;
    expect(redefined.owner).toEqual(renamed);
    expect(marker()).toBe("renamed");
    state = (await domainProvider.update!(NAME, redefined, { ...redefined, owner, memoryMiB: same.memoryMiB })).outs as DomainState;
    expect(marker()).toBe("test");
  });

  it("sees a domain stopped by hand and starts it again", async () => {
    virshSync("destroy", NAME);
    const read = (await domainProvider.read!(NAME, state)).props!;
    expect(read.running).toBe(false);
    expect((await domainProvider.diff!(NAME, read, state)).changes).toBe(true);
    await domainProvider.update!(NAME, read, state);
    expect(virshSync("domstate", NAME).trim()).toBe("running");
  });

  it("with running: false shuts it down and keeps it defined, stops one started by hand, and starts it back", async () => {
    const stopped = (await domainProvider.check!(state, { ...state, running: false })).inputs as DomainInputs;
    expect(stopped.restart).toBe(`graceful shutdown of ${NAME}: running true → false`);
    expect((await domainProvider.diff!(NAME, state, stopped)).changes).toBe(true);
    let now = (await domainProvider.update!(NAME, state, stopped)).outs as DomainState;
    expect(now.running).toBe(false);
    expect(virshSync("domstate", NAME).trim()).toBe("shut off");
    expect((await domainProvider.diff!(NAME, (await domainProvider.read!(NAME, now)).props!, stopped)).changes).toBe(false);
    // Started by hand: drift, put back by the next update.
    virshSync("start", NAME);
    const drifted = (await domainProvider.read!(NAME, now)).props!;
    expect((await domainProvider.diff!(NAME, drifted, stopped)).changes).toBe(true);
    now = (await domainProvider.update!(NAME, drifted, stopped)).outs as DomainState;
    expect(virshSync("domstate", NAME).trim()).toBe("shut off");
    const started = (await domainProvider.check!(stopped, { ...stopped, running: true })).inputs as DomainInputs;
    expect(started.restart).toBe(`start of ${NAME}: running false → true`);
    state = (await domainProvider.update!(NAME, now, started)).outs as DomainState;
    expect(virshSync("domstate", NAME).trim()).toBe("running");
    expect(state.startedAt > now.startedAt).toBe(true);
  });

  it("sees a domain undefined behind its back as gone, and a new one is created in its place", async () => {
    virshSync("destroy", NAME);
    virshSync("undefine", NAME);
    expect((await domainProvider.read!(NAME, state)).id).toBeUndefined();
    state = (await domainProvider.create(inputs({ memoryMiB: 96 }))).outs as DomainState;
    expect(virshSync("domstate", NAME).trim()).toBe("running");
  });

  it("grows the disk of the running domain in place: qemu resizes it, the domain keeps running", async () => {
    virshSync("pool-create-as", POOL, "dir", "--target", work); // transient: gone with pool-destroy
    const id = virshSync("domid", NAME).trim();
    const MiB = 1024 ** 2;
    const disk: DiskState = {
      target: lv.target(),
      pool: POOL,
      name: "disk.qcow2",
      capacityBytes: 16 * MiB,
      backingPath: "",
      domain: NAME,
      path: inputs().diskPath,
    };
    // A plain vol-resize fails here: qemu holds the image's write lock.
    await diskProvider.update!(`${POOL}/disk.qcow2`, disk, { ...disk, capacityBytes: 32 * MiB });
    expect(virshSync("domblkinfo", NAME, "vda")).toMatch(/Capacity:\s+33554432\n/);
    expect(virshSync("vol-info", "--pool", POOL, "disk.qcow2", "--bytes")).toMatch(/Capacity:\s+33554432 bytes/);
    expect(virshSync("domid", NAME).trim()).toBe(id);
    virshSync("pool-destroy", POOL);
  });

  it("hot-plugs a sparse raw data disk into the running domain and out again, grown in place between, the domain running throughout", async () => {
    virshSync("pool-create-as", POOL, "dir", "--target", work);
    try {
      const id = virshSync("domid", NAME).trim();
      const MiB = 1024 ** 2;
      const made = await diskProvider.create({ target: lv.target(), pool: POOL, name: "data_ceph.raw", capacityBytes: 64 * MiB, domain: NAME });
      // No owner: this pool is made by hand, so only the volume's name says it is ours to delete.
      const data = made.outs as DiskState;
      // Sparse: 64 MiB of capacity, next to nothing allocated.
      expect(virshSync("vol-dumpxml", "--pool", POOL, "data_ceph.raw")).toMatch(/<format type='raw'\/>/);
      expect(Number(/Allocation:\s+(\d+) bytes/.exec(virshSync("vol-info", "--pool", POOL, "data_ceph.raw", "--bytes"))![1])).toBeLessThan(MiB);
      const plugged: DomainInputs = { ...state, dataDisks: [{ serial: "ceph", path: data.path }] };
      const diff = await domainProvider.diff!(NAME, state, plugged);
      expect(diff.changes).toBe(true);
      expect(diff.replaces).toEqual([]);
      const checked = (await domainProvider.check!(state, plugged)).inputs as DomainInputs;
      expect(checked.restart).toBe("");
      state = (await domainProvider.update!(NAME, state, checked)).outs as DomainState;
      for (const flags of [[], ["--inactive"]]) {
        expect(virshSync("dumpxml", ...flags, NAME)).toMatch(/<source file='[^']*data_ceph\.raw'[\s\S]*?<serial>ceph<\/serial>/);
      }
      expect(virshSync("domid", NAME).trim()).toBe(id);
      // Drift-free once plugged, and a disk unplugged by hand is seen.
      expect((await domainProvider.diff!(NAME, (await domainProvider.read!(NAME, state)).props as DomainState, checked)).changes).toBe(false);
      await diskProvider.update!(`${POOL}/data_ceph.raw`, data, { ...data, capacityBytes: 128 * MiB });
      expect(virshSync("vol-info", "--pool", POOL, "data_ceph.raw", "--bytes")).toMatch(/Capacity:\s+134217728 bytes/);
      const unplugged = { ...checked, dataDisks: [] };
      state = (await domainProvider.update!(NAME, state, unplugged)).outs as DomainState;
      // The guest (firmware only here) is asked to let go; the definition has it gone at once.
      expect(virshSync("dumpxml", "--inactive", NAME)).not.toContain("data_ceph.raw");
      expect(virshSync("domid", NAME).trim()).toBe(id);
      await diskProvider.delete!(`${POOL}/data_ceph.raw`, { ...data, capacityBytes: 128 * MiB });
      expect(virshOk("vol-info", "--pool", POOL, "data_ceph.raw")).toBe(false);
    } finally {
      virshSync("pool-destroy", POOL);
    }
  });

  it("refuses at check a VM larger than the host, naming the keys, and asks nothing of a run that keeps the sizes (issue 19)", async () => {
    const { failures } = await domainProvider.check!({} as DomainInputs, inputs({ memoryMiB: 1_000_000_000, vcpus: 100_000 }));
    const max = virshSync("maxvcpus", "--type", inputs().type).trim();
    expect(failures).toEqual([
      {
        property: "memoryMiB",
        reason: expect.stringMatching(
          new RegExp(
            `^${NAME} asks for 1000000000 MiB of memory \\(vm-cluster:vms\\[\\]\\.memoryMiB of ${NAME}, or defaults\\.memoryMiB\\) and the VM host has \\d+ MiB in all`,
          ),
        ),
      },
      {
        property: "vcpus",
        reason: `${NAME} asks for 100000 vCPUs (vm-cluster:vms[].vcpus of ${NAME}, or defaults.vcpus) and libvirt on the VM host allows at most ${max} per VM (virsh maxvcpus): give it at most ${max}`,
      },
    ]);
    // More vCPUs than the host has CPUs is overcommit, which libvirt and QEMU allow.
    const cpus = Number(/CPU\(s\):\s+(\d+)/.exec(virshSync("nodeinfo"))![1]);
    expect((await domainProvider.check!({} as DomainInputs, inputs({ vcpus: cpus * 2 }))).failures).toEqual([]);
    // Sizes the state already has are not asked again (a no-op run makes no virsh call for them).
    const huge = inputs({ memoryMiB: 1_000_000_000 });
    expect((await domainProvider.check!({ ...state, memoryMiB: huge.memoryMiB }, huge)).failures).toEqual([]);
  });

  it("replaces, not updates, on a change of domain type", async () => {
    expect((await domainProvider.diff!(NAME, state, inputs({ type: "kvm", memoryMiB: 96 }))).replaces).toEqual(["type"]);
  });

  it("deletes a domain paused by hand (virsh suspend), whose guest cannot take an ACPI shutdown: none of it keeps running", async () => {
    virshSync("suspend", NAME);
    expect(virshSync("domstate", NAME).trim()).toBe("paused");
    await domainProvider.delete!(NAME, state);
    // Not even a transient domain: undefined while its qemu ran, it would have stayed running.
    expect(virshOk("dominfo", NAME)).toBe(false);
    expect(virshSync("list", "--all", "--name")).not.toContain(NAME);
    state = (await domainProvider.create(inputs({ memoryMiB: 96 }))).outs as DomainState;
    expect(virshSync("domstate", NAME).trim()).toBe("running");
  });

  it("deletes it (stopping it first), sees it gone, and a second delete succeeds", async () => {
    await domainProvider.delete!(NAME, state);
    expect(virshOk("dominfo", NAME)).toBe(false);
    // No trace: neither our console log nor libvirt's own log of the domain.
    expect(existsSync(path.join(work, "console.log"))).toBe(false);
    expect(existsSync(`/var/log/libvirt/qemu/${NAME}.log`)).toBe(false);
    expect((await domainProvider.read!(NAME, state)).id).toBeUndefined();
    await domainProvider.delete!(NAME, state);
  });

  it("refuses a domain of the same name that is not marked as this stack's", async () => {
    const foreign = domainXml(inputs()).replace(/<metadata>[\s\S]*<\/metadata>/, "");
    const file = path.join(work, "foreign.xml");
    writeFileSync(file, foreign);
    virshSync("define", file);
    await expect(domainProvider.create(inputs())).rejects.toThrow(/already exists and this stack did not create it/);
    expect(virshSync("domstate", NAME).trim()).toBe("shut off"); // untouched
    // Nor does destroy touch it (issue 19): ours is gone, this one only has its name.
    const said = await stderrOf(() => domainProvider.delete!(NAME, state));
    expect(said).toMatch(new RegExp(`warning: domain ${NAME} is not the one this stack created .*virsh undefine ${NAME}`));
    expect(virshSync("domstate", NAME).trim()).toBe("shut off");
    virshSync("undefine", NAME);
  });
});
