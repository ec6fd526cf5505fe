// Storage pool, base image and VM disk providers against a real libvirtd.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseImageProvider, type BaseImageInputs, type BaseImageState } from "../../libvirt/base-image";
import { diskProvider, type DiskState } from "../../libvirt/disk";
import { storagePoolProvider, type StoragePoolState } from "../../libvirt/pool";
import { seedProvider, type SeedState } from "../../libvirt/seed";
import { useLibvirt, virshOk, virshSync } from "../support/libvirt-fixture";

const lv = useLibvirt();
const POOL = "vmctest-storage-pool";
let work: string;
let poolState: StoragePoolState;

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), "vmc-storage-"));
});
afterAll(() => {
  // Whatever a failed test left: volumes first, then the pool.
  for (const vol of ["vmctest-base.qcow2", "vmctest-vm1.qcow2", "vmctest-seed.iso"]) virshOk("vol-delete", "--pool", POOL, vol);
  virshOk("pool-destroy", POOL);
  virshOk("pool-undefine", POOL);
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
    await storagePoolProvider.update!(POOL, drifted, poolState);
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

  it("sees no change for the same documents, and replaces the seed for new ones", async () => {
    const same = await seedProvider.diff!(seed.name, seed, { target: lv.target(), pool: POOL, name: "vmctest-seed.iso", ...docs });
    expect(same.changes).toBe(false);
    const changed = await seedProvider.diff!(seed.name, seed, { target: lv.target(), pool: POOL, name: "vmctest-seed.iso", ...docs, userData: "#cloud-config\n" });
    expect(changed.replaces).toEqual(["userData"]);
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
