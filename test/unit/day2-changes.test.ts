// The pure parts of changing a running cluster: what a guest-settings update runs in the guest,
// when a domain update restarts the VM (and what preview says of it), when a disk or any libvirt
// object is replaced, and the known_hosts file the hand-off outputs point at.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { clearError, undoThenThrow } from "../../provider/clear-errors";
import { commandError } from "../../transport/command";
import { diskProvider, type DiskState } from "../../libvirt/disk";
import { domainProvider, restartReason, type DomainInputs, type DomainState } from "../../libvirt/domain";
import { UNKNOWN } from "../../provider/unknown";
import { targetChange, type LibvirtTarget } from "../../libvirt/virsh";
import { growRootScript, guestSettingsProvider, settingsScript, type GuestSettingsInputs } from "../../guest/guest-settings";
import { knownHostsFileProvider } from "../../outputs/known-hosts-file";

const local: LibvirtTarget = { connection: { type: "local" } };

const settings = (over: Partial<GuestSettingsInputs> = {}): GuestSettingsInputs => ({
  target: local,
  ip: "172.17.2.2",
  hostPublicKey: "ssh-ed25519 AAAA",
  provisionerPrivateKey: "secret",
  vm: "boreas",
  ready: "anemoi-boreas",
  network: "anemoi",
  fqdn: "boreas.anemoi.internal",
  rootAuthorizedKeys: ["ssh-ed25519 AAAAuser me", "ssh-ed25519 AAAAprov vm-cluster@anemoi"],
  caFiles: [{ path: "/usr/local/share/ca-certificates/vm-cluster/anemoi.crt", content: "-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n" }],
  consolePasswordHash: "",
  disableCloudInitAfterBoot: false,
  diskBytes: 3 * 1024 ** 3,
  ...over,
});

describe("guest settings", () => {
  it("run nothing when nothing changed, whatever else of the VM did (its address, its readiness)", () => {
    expect(settingsScript(settings(), settings({ ip: "172.17.2.9", ready: "again" }))).toBe("");
  });

  it("rewrite /etc/hosts with the new FQDN when the network's domain changes, so `hostname -f` follows", () => {
    const script = settingsScript(settings(), settings({ fqdn: "boreas.lab.example" }));
    expect(script).toContain("127.0.1.1 boreas.lab.example boreas");
    expect(script).toContain("mv -f /etc/hosts.vm-cluster /etc/hosts");
    expect(script).not.toContain("authorized_keys");
  });

  it("wait for a hot-plugged data disk to show in the guest by id, and only for the new one", () => {
    const script = settingsScript(settings({ dataDisks: ["ceph"] }), settings({ dataDisks: ["ceph", "osd"] }));
    expect(script).toContain("for disk in osd; do");
    expect(script).toContain("/dev/disk/by-id/virtio-$disk");
    expect(settingsScript(settings({ dataDisks: ["ceph", "osd"] }), settings({ dataDisks: ["ceph"] }))).toBe("");
  });

  it("rewrite root's authorized_keys, aside first and then moved in, with the new keys only", () => {
    const script = settingsScript(settings(), settings({ rootAuthorizedKeys: ["ssh-ed25519 AAAAnew me", "ssh-ed25519 AAAAprov vm-cluster@anemoi"] }));
    expect(script).toMatch(/^set -e\n/);
    expect(script).toContain("'ssh-ed25519 AAAAnew me' 'ssh-ed25519 AAAAprov vm-cluster@anemoi' > /root/.ssh/authorized_keys.vm-cluster");
    expect(script).toContain("mv -f /root/.ssh/authorized_keys.vm-cluster /root/.ssh/authorized_keys");
    expect(script).not.toContain("AAAAuser");
    expect(script).not.toContain("update-ca-certificates");
  });

  it("replace the CA files and rebuild the trust store; no CA removes them", () => {
    const bundle = settingsScript(settings(), settings({ caFiles: [{ path: "/usr/local/share/ca-certificates/vm-cluster/anemoi-1.crt", content: "X" }] }));
    expect(bundle).toContain("rm -f /usr/local/share/ca-certificates/vm-cluster/*.crt");
    expect(bundle).toContain("printf '%s' X > /usr/local/share/ca-certificates/vm-cluster/anemoi-1.crt");
    expect(bundle).toContain("update-ca-certificates");
    const none = settingsScript(settings(), settings({ caFiles: [] }));
    expect(none).toContain("rm -f /usr/local/share/ca-certificates/vm-cluster/*.crt");
    expect(none).not.toContain("printf");
  });

  it("set or lock root's console password, and switch cloud-init off or on", () => {
    expect(settingsScript(settings(), settings({ consolePasswordHash: "$6$salt$hash" }))).toContain("usermod -p '$6$salt$hash' root");
    expect(settingsScript(settings({ consolePasswordHash: "$6$salt$hash" }), settings())).toContain("usermod -p '!' root");
    expect(settingsScript(settings(), settings({ disableCloudInitAfterBoot: true }))).toContain("touch /etc/cloud/cloud-init.disabled");
    expect(settingsScript(settings({ disableCloudInitAfterBoot: true }), settings())).toContain("rm -f /etc/cloud/cloud-init.disabled");
  });

  it("count as changed in preview while a setting is not known yet (a key pair made anew)", async () => {
    expect(await guestSettingsProvider.diff!("boreas", settings(), { ...settings(), rootAuthorizedKeys: UNKNOWN as unknown as string[] })).toEqual({
      changes: true,
    });
    expect(await guestSettingsProvider.diff!("boreas", settings(), settings({ diskCreatedAt: UNKNOWN }))).toEqual({ changes: false });
  });

  it("grow the root file system only when the disk grew", () => {
    expect(settingsScript(settings(), settings({ diskBytes: 4 * 1024 ** 3 }))).toContain(growRootScript(4 * 1024 ** 3));
    expect(settingsScript(settings({ diskBytes: 4 * 1024 ** 3 }), settings())).toBe("");
  });

  it("grow script: valid shell that waits for the new size and grows partition and file system", () => {
    const script = growRootScript(4294967296);
    expect(script).toContain("want=4294967296");
    expect(script).toMatch(/growpart "\/dev\/\$disk"/);
    expect(script).toContain('resize2fs "$src"');
    execFileSync("sh", ["-n"], { input: script }); // syntax only
  });
});

const domain = (over: Partial<DomainInputs> = {}): DomainInputs => ({
  target: local,
  name: "anemoi-boreas",
  type: "qemu",
  memoryMiB: 384,
  vcpus: 1,
  disk: "anemoi-pool/anemoi-boreas.qcow2",
  diskPath: "/pool/boreas.qcow2",
  seedPath: "/pool/boreas-cidata.iso",
  network: "anemoi",
  mac: "52:54:00:aa:bb:cc",
  lease: "172.17.2.2/24 via 172.17.2.1",
  consoleLog: "/var/log/libvirt/qemu/anemoi-boreas-console.log",
  owner: { project: "vm-cluster", stack: "anemoi", cluster: "anemoi" },
  shutdownTimeoutSeconds: 10,
  ...over,
});
const running = (i: DomainInputs): DomainState => ({ ...i, running: true, startedAt: "2026-12-01T00:00:00.000Z" });

describe("a domain update", () => {
  it("says in preview why the VM restarts: new memory, vCPUs or DHCP lease", async () => {
    expect(restartReason(domain(), domain({ memoryMiB: 512, vcpus: 2 }))).toBe(
      "graceful shutdown and start of anemoi-boreas: memoryMiB 384 → 512, vcpus 1 → 2",
    );
    expect(restartReason(domain(), domain({ lease: "172.17.2.9/24 via 172.17.2.1" }))).toContain(
      "lease 172.17.2.2/24 via 172.17.2.1 → 172.17.2.9/24 via 172.17.2.1",
    );
    expect(restartReason(domain(), domain())).toBe("");
    // In preview a seed made anew has no path yet: it comes back the same, no restart.
    expect(restartReason(domain(), domain({ seedPath: UNKNOWN }))).toBe("");
    const checked = await domainProvider.check!(domain(), domain({ memoryMiB: 512 }));
    expect(checked.inputs?.restart).toMatch(/^graceful shutdown and start/);
    // A new domain is not restarted.
    expect((await domainProvider.check!({} as DomainInputs, domain())).inputs?.restart).toBe("");
  });

  it("records keys that state from before they existed lacks, without a restart; a disk being replaced still replaces it", async () => {
    const { lease: _lease, disk: _disk, ...older } = running(domain());
    const diff = await domainProvider.diff!("anemoi-boreas", older as DomainState, domain());
    expect(diff).toMatchObject({ changes: true, replaces: [] });
    expect(restartReason(older, domain())).toBe("");
    expect((await domainProvider.diff!("anemoi-boreas", older as DomainState, domain({ disk: UNKNOWN }))).replaces).toEqual(["disk"]);
    // The engine asks with the old state's inputs, where the disk's path came from the disk.
    const { disk: _x, ...oldInputs } = domain();
    expect((await domainProvider.diff!("anemoi-boreas", older as DomainState, { ...oldInputs, diskPath: UNKNOWN } as DomainInputs)).replaces).toEqual(["disk"]);
  });

  it("replaces the domain for another type, another disk or another host, and updates for another way to reach it", async () => {
    const diff = (news: DomainInputs) => domainProvider.diff!("anemoi-boreas", running(domain()), news);
    expect((await diff(domain({ type: "kvm" }))).replaces).toEqual(["type"]);
    // The engine replacing the disk asks with its id unknown: the domain goes first.
    expect((await diff(domain({ disk: UNKNOWN }))).replaces).toEqual(["disk"]);
    // A disk that grows leaves its id known and its path as it was: no replacement.
    expect((await diff(domain({ memoryMiB: 512 }))).replaces).toEqual([]);
    expect((await diff(domain({ target: { connection: { type: "local", netns: "other" } } }))).replaces).toEqual(["target"]);
    expect(await diff(domain({ target: { connection: { type: "local", sudo: true } } }))).toMatchObject({ changes: true, replaces: [] });
    expect(await diff(domain())).toMatchObject({ changes: false, replaces: [] });
    // A renamed stack changes nothing on the host: the old marker stays valid in state.
    expect(await diff(domain({ owner: { project: "vm-cluster", stack: "renamed", cluster: "anemoi" } }))).toMatchObject({ changes: false, replaces: [] });
  });
});

describe("a disk", () => {
  const disk: DiskState = {
    target: local,
    pool: "anemoi-pool",
    name: "anemoi-boreas.qcow2",
    capacityBytes: 3 * 1024 ** 3,
    backingPath: "/pool/base",
    guestMac: "52:54:00:aa:bb:cc",
    path: "/pool/boreas.qcow2",
  };

  it("is replaced for another MAC (the guest set its network up for the old one), unless the state predates the key", async () => {
    expect((await diskProvider.diff!("d", disk, { ...disk, guestMac: "52:54:00:00:00:01" })).replaces).toEqual(["guestMac"]);
    const { guestMac: _mac, domain: _domain, ...older } = { ...disk, domain: "anemoi-boreas" };
    // Recorded by an update that touches nothing, so the next MAC change is seen.
    expect(await diskProvider.diff!("d", older, { ...disk, domain: "anemoi-boreas" })).toMatchObject({ changes: true, replaces: [] });
    // The domain refuses a MAC change until then: its guest would find no network on the old disk.
    const { disk: _d, ...olderDomain } = domain();
    const checked = await domainProvider.check!(olderDomain as DomainInputs, domain({ mac: "52:54:00:00:00:01" }));
    expect(checked.failures?.[0]?.reason).toMatch(/run `pulumi up` once with the old MAC, then change it/);
    expect((await domainProvider.check!(domain(), domain({ mac: "52:54:00:00:00:01" }))).failures).toEqual([]);
  });

  it("changes nothing when the stack is renamed (its volumes are proven by the pool's recorded owner)", async () => {
    const owned = { ...disk, owner: { project: "vm-cluster", stack: "anemoi", cluster: "anemoi" } };
    expect(await diskProvider.diff!("d", owned, { ...owned, owner: { ...owned.owner, stack: "renamed" } })).toMatchObject({ changes: false, replaces: [] });
  });

  it("refuses to shrink, naming the config keys and the smallest size allowed", async () => {
    const { failures } = await diskProvider.check!(disk, { ...disk, capacityBytes: 2 * 1024 ** 3 });
    expect(failures?.[0]?.reason).toMatch(/a disk never shrinks \(3G → 2G\).*defaults\.disk \(or this VM's vms\[\]\.disk\) to at least 3G/);
  });
});

describe("a libvirt target", () => {
  it("is moved by another host, namespace or URI, and only reached differently by sudo, user or key", () => {
    const ssh = (over: object = {}): LibvirtTarget => ({
      connection: { type: "ssh", host: "h", port: 22, user: "root", privateKey: "k", hostKey: "SHA256:x", ...over },
    });
    expect(targetChange(ssh(), ssh())).toBe("same");
    expect(targetChange(ssh(), ssh({ user: "admin", sudo: true, privateKey: "k2" }))).toBe("reach");
    expect(targetChange(ssh(), ssh({ host: "h2" }))).toBe("moved");
    expect(targetChange(ssh(), ssh({ port: 2222 }))).toBe("moved");
    expect(targetChange(local, { ...local, uri: "qemu:///session" })).toBe("moved");
    expect(targetChange(local, { connection: { type: "local", netns: "t" } })).toBe("moved");
  });
});

describe("a provider failure", () => {
  it("reaches the engine as a message: a command's own, or a sentence for a thrown non-Error", () => {
    const failed = commandError(["virsh", "vol-resize"], 1, "error: lock", "this machine");
    const clear = clearError("disk", "update", failed);
    expect(clear.message).toBe("`virsh vol-resize` on this machine failed (exit 1): error: lock");
    // No numeric `code` for gRPC to take as its status.
    expect((clear as unknown as { code?: unknown }).code).toBeUndefined();
    expect(clearError("disk", "update", "the host said no").message).toBe("disk update failed: the host said no");
    expect(clearError("disk", "create", undefined).message).toBe("disk create failed: no reason given");
    expect(clearError("disk", "create", { reason: 42 }).message).toBe('disk create failed: {"reason":42}');
    expect(clearError("disk", "delete", new Error("")).message).toBe("disk delete failed: Error without a message");
  });
});

describe("the known_hosts file", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "vmc-known-hosts-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("is written with the folders it needs, rewritten on a change, and removed with those folders only", async () => {
    const file = path.join(dir, ".vm-cluster", "anemoi", "anemoi.known_hosts");
    const outs = (await knownHostsFileProvider.create({ path: file, content: "a\n" })).outs!;
    expect(readFileSync(file, "utf8")).toBe("a\n");
    expect(statSync(file).mode & 0o777).toBe(0o644);
    expect(outs.createdDir).toBe(path.join(dir, ".vm-cluster"));
    const updated = await knownHostsFileProvider.update!(file, outs, { path: file, content: "b\n" });
    expect(readFileSync(file, "utf8")).toBe("b\n");
    expect((await knownHostsFileProvider.read!(file, updated.outs)).props?.content).toBe("b\n");
    // Removed by hand (a fresh checkout, a clean): the next up writes it again.
    rmSync(file);
    expect((await knownHostsFileProvider.diff!(file, updated.outs!, { path: file, content: "b\n" })).changes).toBe(true);
    await knownHostsFileProvider.update!(file, updated.outs!, { path: file, content: "b\n" });
    expect((await knownHostsFileProvider.diff!(file, updated.outs!, { path: file, content: "b\n" })).changes).toBe(false);
    mkdirSync(path.join(dir, ".vm-cluster", "other"));
    await knownHostsFileProvider.delete!(file, updated.outs!);
    expect(existsSync(path.join(dir, ".vm-cluster", "anemoi"))).toBe(false);
    // Something else in the folder it made: that folder stays.
    expect(existsSync(path.join(dir, ".vm-cluster", "other"))).toBe(true);
  });

  it("is relative to the project folder by default: the same input in every checkout, each one's own file", async () => {
    const cwd = process.cwd();
    const [a, b] = ["a", "b"].map((c) => path.join(dir, "relative", c));
    const file = path.join(".vm-cluster", "team", "teamx.known_hosts");
    try {
      mkdirSync(a!, { recursive: true });
      mkdirSync(b!, { recursive: true });
      process.chdir(a!);
      const ofA = (await knownHostsFileProvider.create({ path: file, content: "a\n" })).outs!;
      process.chdir(b!);
      // B's checkout, after A's up: nothing there yet. Refresh keeps the resource (drift, not gone),
      // and up is an update that writes B's file.
      expect((await knownHostsFileProvider.read!(file, ofA)).props).toMatchObject({ path: file, content: "" });
      expect((await knownHostsFileProvider.diff!(file, ofA, { path: file, content: "a\n" })).changes).toBe(true);
      const ofB = (await knownHostsFileProvider.update!(file, ofA, { path: file, content: "a\n" })).outs!;
      expect((await knownHostsFileProvider.diff!(file, ofB, { path: file, content: "a\n" })).changes).toBe(false);
      process.chdir(a!);
      expect((await knownHostsFileProvider.diff!(file, ofB, { path: file, content: "a\n" })).changes).toBe(false);
      // Destroy from B removes B's file and the folders its create made; A's stays.
      process.chdir(b!);
      await knownHostsFileProvider.delete!(file, ofA);
      expect([existsSync(path.join(b!, ".vm-cluster")), readFileSync(path.join(a!, file), "utf8")]).toEqual([false, "a\n"]);
    } finally {
      process.chdir(cwd);
    }
  });

  it("by an absolute path, another checkout's run writes its file and leaves this one's", async () => {
    const [mine, theirs] = ["a", "b"].map((c) => path.join(dir, c, ".vm-cluster", "team", "teamx.known_hosts"));
    const outs = (await knownHostsFileProvider.create({ path: mine!, content: "a\n" })).outs!;
    // As the other operator's run recorded it: written from their machine and folder.
    const written = { ...outs, writtenFrom: "their-laptop:/home/b/vm-cluster" };
    const diff = await knownHostsFileProvider.diff!(mine!, written, { path: theirs!, content: "a\n" });
    expect(diff).toMatchObject({ changes: true });
    expect(diff.replaces ?? []).toEqual([]);
    const moved = (await knownHostsFileProvider.update!(mine!, { ...written, path: theirs! }, { path: mine!, content: "a\n" })).outs!;
    expect(readFileSync(mine!, "utf8")).toBe("a\n");
    await knownHostsFileProvider.delete!(mine!, written);
    expect(existsSync(mine!)).toBe(true);
    // A state from before writtenFrom: only a file inside this folder counts as this checkout's.
    await knownHostsFileProvider.delete!(mine!, { ...written, writtenFrom: undefined });
    expect(existsSync(mine!)).toBe(true);
    // This checkout's own file under another path (hand-off folder moved): the old one goes.
    const next = (await knownHostsFileProvider.update!(mine!, moved, { path: theirs!, content: "a\n" })).outs!;
    expect([existsSync(mine!), readFileSync(theirs!, "utf8")]).toEqual([false, "a\n"]);
    await knownHostsFileProvider.delete!(theirs!, next);
    expect(existsSync(theirs!)).toBe(false);
  });
});

describe("undoing a half-made step", () => {
  it("throws the original error when the clean-up works, and adds a failing clean-up to it as a warning", async () => {
    const original = new Error("`virsh net-start x` failed");
    let undone = false;
    await expect(undoThenThrow(original, [{ what: "stopping it", run: async () => void (undone = true) }])).rejects.toBe(original);
    expect(undone).toBe(true);
    const both = undoThenThrow(original, [
      { what: "stopping it", run: async () => undefined },
      { what: "undefining it (virsh net-undefine x)", run: async () => Promise.reject(new Error("libvirt went away")) },
    ]);
    await expect(both).rejects.toThrow(
      /^`virsh net-start x` failed\nwarning: undoing it failed too, so something may be left on the host: undefining it \(virsh net-undefine x\): libvirt went away$/,
    );
  });
});
