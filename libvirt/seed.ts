// A VM's cloud-init NoCloud seed: the ISO is built here (xorriso) and uploaded into the pool, so a
// remote VM host needs no ISO tool. Its documents hold the VM's private host key: secret inputs.
import { deleteFirst } from "../provider/delete-first";
import * as pulumi from "../provider/pulumi";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seedIso, type NoCloudDocuments } from "../cloudinit/seed-iso";
import { cleanupOnAbort } from "../transport/process-guard";
import { withHostFile } from "../transport/files";
import { virsh, targetChange, type LibvirtTarget } from "./virsh";
import { deleteOwnedVolume, deleteVolume, leftoverVolume, volumePath } from "./volume";
import type { Owner } from "./xml";
import { undoThenThrow, withClearErrors } from "../provider/clear-errors";
import type { InputsOf } from "../provider/args";
import { DynamicResource } from "../provider/dynamic-resource";

export interface SeedInputs extends NoCloudDocuments {
  target: LibvirtTarget;
  pool: string;
  name: string;
  /** The stack whose pool this is: a seed an interrupted run left there is written anew. */
  owner?: Owner;
  /** sha256 of the user's own cloud-config in it; none without one. */
  cloudConfigDigest?: string;
  /**
   * Set by check: the user's cloud-config differs from the one this seed was made with, which the
   * running VM, set up from that one, does not follow (cloud-init reads a seed at a first boot only).
   */
  cloudConfigChanged?: boolean;
}

export interface SeedState extends SeedInputs {
  path: string;
  /** sha256 of the ISO's documents, to see a change without comparing secrets in the clear. */
  digest: string;
}

export type SeedArgs = InputsOf<Omit<SeedInputs, "cloudConfigChanged">>;

export function seedDigest(docs: NoCloudDocuments): string {
  return createHash("sha256")
    .update(JSON.stringify([docs.userData, docs.metaData, docs.networkConfig]))
    .digest("hex");
}

/** Builds the ISO from the documents and uploads it into the pool as a new volume of that name. */
async function writeSeed(inputs: SeedInputs): Promise<SeedState> {
  const t = inputs.target;
  const work = await mkdtemp(join(tmpdir(), "vm-cluster-seed-"));
  // It holds the VM's private host key: removed too when the provider is stopped mid-way.
  const release = cleanupOnAbort(() => rm(work, { recursive: true, force: true }));
  try {
    const iso = await readFile(await seedIso(inputs, work));
    // `iso`: libvirt probes the uploaded content and would report a `raw` volume as iso (drift).
    await virsh(t, ["vol-create-as", inputs.pool, inputs.name, String(iso.length), "--format", "iso"]);
    await withHostFile(t.connection, iso, (file) => virsh(t, ["vol-upload", "--pool", inputs.pool, inputs.name, file]));
  } catch (err) {
    await undoThenThrow(err, [
      {
        what: `removing the half-made seed volume (virsh vol-delete --pool ${inputs.pool} ${inputs.name})`,
        run: () => deleteVolume(t, inputs.pool, inputs.name),
      },
    ]);
  } finally {
    await rm(work, { recursive: true, force: true });
    release();
  }
  const path = (await volumePath(t, inputs.pool, inputs.name))!;
  return { ...inputs, path, digest: seedDigest(inputs) };
}

export const seedProvider: pulumi.dynamic.ResourceProvider<SeedInputs, SeedState> = withClearErrors<SeedInputs, SeedState>("cloud-init seed", {
  async create(inputs) {
    // Ours from an interrupted run (maybe half uploaded): the documents decide its content, so it is made again.
    if ((await leftoverVolume(inputs.target, inputs.pool, inputs.name, inputs.owner)) !== undefined)
      await deleteVolume(inputs.target, inputs.pool, inputs.name);
    return { id: `${inputs.pool}/${inputs.name}`, outs: await writeSeed(inputs) };
  },

  async read(id, props) {
    const path = props && (await volumePath(props.target, props.pool, props.name));
    return path ? { id, props: { ...props, path } } : {};
  },

  async check(olds, news) {
    const cloudConfigChanged = olds.name !== undefined && (olds.cloudConfigDigest ?? "") !== (news.cloudConfigDigest ?? "");
    return { inputs: { ...news, cloudConfigChanged } };
  },

  async diff(_id, olds, news) {
    const replaces: string[] = (["pool", "name"] as const).filter((k) => olds[k] !== news[k]);
    const target = targetChange(olds.target, news.target);
    if (target === "moved") replaces.push("target");
    // New documents are an update, not a replacement: the engine checks a replacement's inputs
    // again without the old ones, and check compares the user's cloud-config with the old one.
    const rewrite = olds.digest !== seedDigest(news);
    return { changes: replaces.length > 0 || rewrite || target !== "same", replaces, deleteBeforeReplace: true };
  },

  async update(_id, olds, news) {
    if (olds.digest === seedDigest(news)) return { outs: { ...news, path: olds.path, digest: olds.digest } };
    // cloud-init has read the old documents at the VM's first boot: the new ones are for its next.
    await deleteVolume(news.target, news.pool, news.name);
    return { outs: await writeSeed(news) };
  },

  async delete(_id, props) {
    await deleteOwnedVolume(props.target, props.pool, props.name, props.owner);
  },
});

export class Seed extends DynamicResource {
  declare readonly path: pulumi.Output<string>;
  declare readonly cloudConfigChanged: pulumi.Output<boolean>;

  constructor(name: string, args: SeedArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      seedProvider,
      name,
      { ...args, path: undefined, digest: undefined, cloudConfigChanged: undefined },
      { ...deleteFirst(opts), additionalSecretOutputs: ["userData"] },
      "vm-cluster",
      "Seed",
    );
  }
}
