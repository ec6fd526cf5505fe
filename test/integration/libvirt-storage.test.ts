// Storage pool, base image and VM disk providers against a real libvirtd.
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseImageProvider, type BaseImageInputs, type BaseImageState } from "../../libvirt/base-image";
import { diskProvider, type DiskState } from "../../libvirt/disk";
import { storagePoolProvider, type StoragePoolState } from "../../libvirt/pool";
import { seedProvider, type SeedState } from "../../libvirt/seed";
import { deleteOwnedVolume } from "../../libvirt/volume";
import { useLibvirt, virshOk, virshSync } from "../support/libvirt-fixture";
import { stderrOf } from "../support/stderr";

const lv = useLibvirt();
const POOL = "vmctest-storage-pool";
/** The pool of the directory-takeover and delete-ownership checks. */
const TAKEN = "vmctest-taken-pool";
let work: string;
let poolState: StoragePoolState;

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), "vmc-storage-"));
});
afterAll(() => {
  // Whatever a failed test left: volumes first, then the pool.
  for (const vol of ["vmctest-base.qcow2", "vmctest-vm1.qcow2", "vmctest-seed.iso"]) virshOk("vol-delete", "--pool", POOL, vol);
  virshOk("vol-delete", "--pool", TAKEN, "vmctest-vm1.qcow2");
  for (const pool of [POOL, TAKEN]) {
    virshOk("pool-destroy", pool);
    virshOk("pool-undefine", pool);
  }
  rmSync(work, { recursive: true, force: true });
});

describe("storage pool", () => {
  it("creates a started, autostarted dir pool and makes its directory", async () => {
    const poolDir = path.join(work, "pool");
    const { id, outs } = await storagePoolProvider.create({ target: lv.target(), name: POOL, path: poolDir });
    poolState = outs as StoragePoolState;
    expect(id).toBe(POOL);
    expect(poolState.createdDir).toBe(true);
    expect(existsSync(poolDir)).toBe(true);
    expect(virshSync("pool-info", POOL)).toMatch(/State:\s+running[\s\S]*Autostart:\s+yes/);
  });

  it("reads no drift, then sees a pool stopped by hand and update starts it again", async () => {
    const read = await storagePoolProvider.read!(POOL, poolState);
    expect((await storagePoolProvider.diff!(POOL, read.props!, poolState)).changes).toBe(false);
    virshSync("pool-destroy", POOL);
    const drifted = (await storagePoolProvider.read!(POOL, poolState)).props!;
    expect(drifted.active).toBe(false);
    expect((await storagePoolProvider.diff!(POOL, drifted, poolState)).changes).toBe(true);
    // After a stack rename the state keeps the owner the pool's UUID was made from (here none).
    const outs = (await storagePoolProvider.update!(POOL, drifted, { ...poolState, owner: { project: "vm-cluster", stack: "renamed", cluster: "vmctest" } }))
      .outs as StoragePoolState;
    expect(outs.owner).toBe(poolState.owner);
    expect(virshSync("pool-info", POOL)).toMatch(/State:\s+running/);
  });

  it("refuses to take over a pool of the same name it does not own", async () => {
    await expect(storagePoolProvider.create({ target: lv.target(), name: POOL, path: path.join(work, "other") })).rejects.toThrow(
      /already exists and this stack did not create it/,
    );
  });
});

describe("base image and disk", () => {
  let image: string;
  let sha512: string;
  let base: BaseImageState;
  let disk: DiskState;
  const baseInputs = (over: Partial<BaseImageInputs> = {}): BaseImageInputs => ({
    target: lv.target(),
    pool: POOL,
    name: "vmctest-base.qcow2",
    url: `file://${image}`,
    checksumsUrl: `file://${path.join(work, "SHA512SUMS")}`,
    fileName: "test-image.qcow2",
    cacheDir: path.join(work, "cache"),
    ...over,
  });

  beforeAll(() => {
    image = path.join(work, "test-image.qcow2");
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", image, "64M"]);
    sha512 = createHash("sha512").update(readFileSync(image)).digest("hex");
    writeFileSync(path.join(work, "SHA512SUMS"), `${"0".repeat(128)}  other.qcow2\n${sha512}  test-image.qcow2\n`);
  });

  it("fails on a checksum mismatch and leaves neither a file nor a volume", async () => {
    const wrong = "f".repeat(128);
    await expect(baseImageProvider.create(baseInputs({ checksumsUrl: undefined, sha512: wrong }))).rejects.toThrow(/checksum mismatch/);
    expect(virshOk("vol-info", "--pool", POOL, "vmctest-base.qcow2")).toBe(false);
    const leftovers = existsSync(path.join(work, "cache")) ? execFileSync("ls", ["-A", path.join(work, "cache")], { encoding: "utf8" }) : "";
    expect(leftovers).toBe("");
  });

  it("gives up on a mirror that takes the connection and never answers, saying which URL and key (issue 19)", async () => {
    const port = 18097;
    // Accepts every connection and keeps it open, silent.
    const silent = spawn(
      "ip",
      [
        "netns",
        "exec",
        lv.netns(),
        "python3",
        "-c",
        `import socket\ns = socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\ns.bind(("127.0.0.1", ${port}))\ns.listen(16)\nheld = []\nwhile True:\n    held.append(s.accept())\n`,
      ],
      { stdio: "ignore" },
    );
    try {
      await new Promise((r) => setTimeout(r, 1_000));
      const url = `http://127.0.0.1:${port}/image.qcow2`;
      const started = Date.now();
      await expect(baseImageProvider.create(baseInputs({ url, checksumsUrl: undefined, sha512 }))).rejects.toThrow(
        new RegExp(`cannot download the base image ${url} on .*: curl: \\(28\\) Operation too slow.*; check image.url`),
      );
      // curl's stall limit, for each of its tries: never the hours of the command's own bound.
      expect(Date.now() - started).toBeLessThan(120_000);
      expect(virshOk("vol-info", "--pool", POOL, "vmctest-base.qcow2")).toBe(false);
    } finally {
      silent.kill("SIGKILL");
    }
  }, 180_000);

  it("downloads, verifies against SHA512SUMS, caches by checksum and imports into the pool", async () => {
    base = (await baseImageProvider.create(baseInputs())).outs as BaseImageState;
    expect(base.verifiedSha512).toBe(sha512);
    expect(existsSync(path.join(work, "cache", `${sha512}.qcow2`))).toBe(true);
    expect(base.path).toBe(path.join(poolState.path, "vmctest-base.qcow2"));
    expect(virshSync("vol-list", POOL)).toContain("vmctest-base.qcow2");
  });

  it("makes a VM disk as a qcow2 overlay with its own capacity, and grows it in place", async () => {
    const inputs = { target: lv.target(), pool: POOL, name: "vmctest-vm1.qcow2", capacityBytes: 256 * 1024 ** 2, backingPath: base.path };
    disk = (await diskProvider.create(inputs)).outs as DiskState;
    const info = JSON.parse(execFileSync("qemu-img", ["info", "--output=json", disk.path], { encoding: "utf8" }));
    expect(info["backing-filename"]).toBe(base.path);
    expect(info["virtual-size"]).toBe(256 * 1024 ** 2);

    const bigger = { ...inputs, capacityBytes: 512 * 1024 ** 2 };
    const check = await diskProvider.check!(disk, bigger);
    expect(check.failures).toEqual([]);
    const d = await diskProvider.diff!(disk.name, disk, bigger);
    expect(d.replaces).toEqual([]);
    disk = (await diskProvider.update!(disk.name, disk, bigger)).outs as DiskState;
    const read = await diskProvider.read!(disk.name, disk);
    expect(read.props!.capacityBytes).toBe(512 * 1024 ** 2);

    const smaller = await diskProvider.check!(read.props!, inputs);
    expect(smaller.failures?.[0]?.reason).toMatch(/never shrinks/);
  });

  it("sees a disk deleted behind its back as gone, and deleting twice succeeds", async () => {
    virshSync("vol-delete", "--pool", POOL, "vmctest-vm1.qcow2");
    expect((await diskProvider.read!(disk.name, disk)).id).toBeUndefined();
    await diskProvider.delete!(disk.name, disk);
  });

  it("deletes the base volume but keeps the shared cache", async () => {
    await baseImageProvider.delete!(base.name, base);
    await baseImageProvider.delete!(base.name, base);
    expect(virshOk("vol-info", "--pool", POOL, "vmctest-base.qcow2")).toBe(false);
    expect(existsSync(path.join(work, "cache", `${sha512}.qcow2`))).toBe(true);
  });
});

describe("cloud-init seed volume", () => {
  const docs = { userData: "#cloud-config\nhostname: seedcheck\n", metaData: "instance-id: seedcheck\n", networkConfig: "version: 2\n" };
  let seed: SeedState;

  it("uploads a cidata ISO into the pool as an iso volume", async () => {
    seed = (await seedProvider.create({ target: lv.target(), pool: POOL, name: "vmctest-seed.iso", ...docs })).outs as SeedState;
    expect(virshSync("vol-dumpxml", "--pool", POOL, "vmctest-seed.iso")).toMatch(/<format type='iso'\/>/);
    const copy = path.join(work, "downloaded.iso");
    virshSync("vol-download", "--pool", POOL, "vmctest-seed.iso", copy);
    expect(execFileSync("xorriso", ["-indev", copy, "-pvd_info"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })).toMatch(/Volume Id\s*:\s*cidata/);
    const extracted = path.join(work, "user-data");
    execFileSync("xorriso", ["-osirrox", "on", "-indev", copy, "-extract", "/user-data", extracted], { stdio: "ignore" });
    expect(readFileSync(extracted, "utf8")).toBe(docs.userData);
  });

  it("sees no change for the same documents, and rewrites the seed in place for new ones", async () => {
    const same = await seedProvider.diff!(seed.name, seed, { target: lv.target(), pool: POOL, name: "vmctest-seed.iso", ...docs });
    expect(same.changes).toBe(false);
    const changed = await seedProvider.diff!(seed.name, seed, {
      target: lv.target(),
      pool: POOL,
      name: "vmctest-seed.iso",
      ...docs,
      userData: "#cloud-config\n",
    });
    expect(changed).toMatchObject({ changes: true, replaces: [] });
    const news = { target: lv.target(), pool: POOL, name: "vmctest-seed.iso", ...docs, userData: "#cloud-config\nhostname: rewritten\n" };
    seed = (await seedProvider.update!(seed.name, seed, news)).outs as SeedState;
    expect((await seedProvider.diff!(seed.name, seed, news)).changes).toBe(false);
    const copy = path.join(work, "rewritten.iso");
    virshSync("vol-download", "--pool", POOL, "vmctest-seed.iso", copy);
    const extracted = path.join(work, "rewritten-user-data");
    execFileSync("xorriso", ["-osirrox", "on", "-indev", copy, "-extract", "/user-data", extracted], { stdio: "ignore" });
    expect(readFileSync(extracted, "utf8")).toBe(news.userData);
  });

  it("is deleted, and deleting again succeeds", async () => {
    await seedProvider.delete!(seed.name, seed);
    await seedProvider.delete!(seed.name, seed);
    expect(virshOk("vol-info", "--pool", POOL, "vmctest-seed.iso")).toBe(false);
    expect((await seedProvider.read!(seed.name, seed)).id).toBeUndefined();
  });
});

describe("storage pool delete", () => {
  it("removes the pool and the directory it made; a second delete succeeds", async () => {
    await storagePoolProvider.delete!(POOL, poolState);
    await storagePoolProvider.delete!(POOL, poolState);
    expect(virshOk("pool-info", POOL)).toBe(false);
    expect(existsSync(poolState.path)).toBe(false);
  });
});

describe("a pool directory that was there, and a pool name taken after ours went (issue 19)", () => {
  const owner = { project: "vm-cluster", stack: "test", cluster: "vmctest" };
  /** A user's directory: not root's, mode 0700, so any change by libvirt shows. */
  const usersDir = (name: string, files: string[] = []) => {
    const dir = path.join(work, name);
    mkdirSync(dir);
    for (const f of files) writeFileSync(path.join(dir, f), "the user's\n");
    chownSync(dir, 1000, 1000);
    chmodSync(dir, 0o700);
    return dir;
  };
  const ownerAndMode = (dir: string) => {
    const st = statSync(dir);
    return `${st.uid}:${st.gid} ${(st.mode & 0o7777).toString(8)}`;
  };
  it("refuses a directory that holds files, naming poolDir, and changes nothing", async () => {
    const dir = usersDir("full", ["notes.txt"]);
    await expect(storagePoolProvider.create({ target: lv.target(), name: TAKEN, path: dir, owner })).rejects.toThrow(
      new RegExp(`storage pool directory ${dir} \\(poolDir\\) .* already exists and is not empty.*Nothing was changed: set vm-cluster:poolDir`),
    );
    expect(virshOk("pool-info", TAKEN)).toBe(false);
    expect(ownerAndMode(dir)).toBe("1000:1000 700");
    expect(readFileSync(path.join(dir, "notes.txt"), "utf8")).toBe("the user's\n");
  });

  it("refuses a path that is a file", async () => {
    const file = path.join(work, "a-file");
    writeFileSync(file, "x");
    await expect(storagePoolProvider.create({ target: lv.target(), name: TAKEN, path: file, owner })).rejects.toThrow(
      /is a regular (empty )?file, not a directory/,
    );
    expect(virshOk("pool-info", TAKEN)).toBe(false);
  });

  it("uses an empty directory as it is, and destroy leaves it with its owner and mode", async () => {
    const dir = usersDir("empty");
    const { outs } = await storagePoolProvider.create({ target: lv.target(), name: TAKEN, path: dir, owner });
    expect((outs as StoragePoolState).createdDir).toBe(false);
    expect(virshSync("pool-info", TAKEN)).toMatch(/State:\s+running/);
    expect(ownerAndMode(dir)).toBe("1000:1000 700");
    await storagePoolProvider.delete!(TAKEN, outs as StoragePoolState);
    expect(virshOk("pool-info", TAKEN)).toBe(false);
    expect(ownerAndMode(dir)).toBe("1000:1000 700");
  });

  it("delete leaves a same-named pool and volume made by hand after ours were removed, with a warning", async () => {
    const ours = (await storagePoolProvider.create({ target: lv.target(), name: TAKEN, path: path.join(work, "ours"), owner })).outs as StoragePoolState;
    virshSync("pool-destroy", TAKEN);
    virshSync("pool-undefine", TAKEN);
    const theirs = usersDir("theirs");
    virshSync("pool-create-as", TAKEN, "dir", "--target", theirs);
    virshSync("vol-create-as", TAKEN, "vmctest-vm1.qcow2", "1M", "--format", "qcow2");

    const said = await stderrOf(async () => {
      await deleteOwnedVolume(lv.target(), TAKEN, "vmctest-vm1.qcow2", owner);
      await storagePoolProvider.delete!(TAKEN, ours);
    });
    expect(said).toMatch(/warning: volume vmctest-vm1.qcow2 in storage pool vmctest-taken-pool is not the one this stack created .* left it alone/);
    expect(said).toMatch(/warning: storage pool vmctest-taken-pool is not the one this stack created .*virsh pool-destroy vmctest-taken-pool/);
    expect(virshOk("vol-info", "--pool", TAKEN, "vmctest-vm1.qcow2")).toBe(true);
    expect(virshSync("pool-info", TAKEN)).toMatch(/State:\s+running/);
  });
});
