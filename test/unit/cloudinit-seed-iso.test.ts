import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { seedIso, type NoCloudDocuments } from "../../cloudinit";

const dir = mkdtempSync(join(tmpdir(), "cloudinit-seed-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const docs: NoCloudDocuments = {
  userData: "#cloud-config\nhostname: boreas\n",
  metaData: "instance-id: anemoi-boreas\nlocal-hostname: boreas\n",
  networkConfig: "version: 2\n",
};

const xorriso = (args: string[]) => execFileSync("xorriso", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

describe("seedIso", () => {
  it("writes an ISO labelled cidata with exactly the three NoCloud files, and nothing else in workDir", async () => {
    const iso = await seedIso(docs, dir);
    expect(iso).toBe(join(dir, "seed.iso"));
    expect(readdirSync(dir)).toEqual(["seed.iso"]);
    expect(xorriso(["-indev", iso, "-pvd_info"])).toMatch(/^Volume Id\s*:\s*cidata$/m);
    const names = xorriso(["-indev", iso, "-lsl", "/"])
      .split("\n")
      .filter((l) => l.startsWith("-"))
      .map((l) => l.split(/\s+/).at(-1));
    expect(names.sort()).toEqual(["'meta-data'", "'network-config'", "'user-data'"]);
  });

  it("stores the documents byte for byte, readable by any user", async () => {
    const iso = await seedIso(docs, dir);
    const out = mkdtempSync(join(tmpdir(), "cloudinit-seed-out-"));
    try {
      xorriso(["-osirrox", "on", "-indev", iso, "-extract", "/", out]);
      expect(readFileSync(join(out, "user-data"), "utf8")).toBe(docs.userData);
      expect(readFileSync(join(out, "meta-data"), "utf8")).toBe(docs.metaData);
      expect(readFileSync(join(out, "network-config"), "utf8")).toBe(docs.networkConfig);
      expect(xorriso(["-indev", iso, "-lsl", "/user-data"])).toMatch(/^-r--r--r--/m);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("replaces an earlier seed in place", async () => {
    await seedIso(docs, dir);
    const iso = await seedIso({ ...docs, userData: "#cloud-config\nhostname: notus\n" }, dir);
    const out = mkdtempSync(join(tmpdir(), "cloudinit-seed-out-"));
    try {
      xorriso(["-osirrox", "on", "-indev", iso, "-extract", "/user-data", join(out, "user-data")]);
      expect(readFileSync(join(out, "user-data"), "utf8")).toContain("notus");
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("leaves neither a seed nor its staging folder when xorriso cannot run", async () => {
    const empty = mkdtempSync(join(tmpdir(), "cloudinit-seed-fail-"));
    const path = process.env.PATH;
    process.env.PATH = "/nonexistent";
    try {
      await expect(seedIso(docs, empty)).rejects.toThrow(/xorriso/);
      expect(readdirSync(empty)).toEqual([]);
    } finally {
      process.env.PATH = path;
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
