// The NoCloud seed: an ISO 9660 image labelled "cidata" holding the three documents, which
// cloud-init finds by its label whatever the disk bus.
import { execFile } from "node:child_process";
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

export interface NoCloudDocuments {
  readonly userData: string;
  readonly metaData: string;
  readonly networkConfig: string;
}

export const SEED_LABEL = "cidata";
export const SEED_FILE = "seed.iso";

/**
 * Writes `<workDir>/seed.iso` (replacing it atomically) and returns its path. `workDir` must
 * exist; use one per VM.
 */
export async function seedIso(docs: NoCloudDocuments, workDir: string): Promise<string> {
  const staging = await mkdtemp(join(workDir, ".cidata-"));
  try {
    const files: [string, string][] = [
      ["user-data", docs.userData],
      ["meta-data", docs.metaData],
      ["network-config", docs.networkConfig],
    ];
    for (const [name, text] of files) await writeFile(join(staging, name), text, { mode: 0o600 });
    const iso = join(staging, SEED_FILE);
    // Rock Ridge (-r: root-owned, world-readable) keeps the lowercase names with "-" that
    // cloud-init looks for; Joliet (-J) for readers without Rock Ridge.
    // promisify here, not at module level: the seed provider is serialized into state, and a
    // module-level wrapper of a node built-in cannot be.
    await promisify(execFile)("xorriso", ["-as", "mkisofs", "-quiet", "-o", iso, "-V", SEED_LABEL, "-J", "-r", ...files.map(([name]) => join(staging, name))]);
    const target = join(workDir, SEED_FILE);
    await rename(iso, target);
    return target;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
