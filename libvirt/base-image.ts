// The cluster's base image: downloaded on the VM host (as the seed's get_url does), verified
// against SHA512, cached on the host by checksum so other stacks reuse it without downloading,
// and copied into the cluster's pool as a volume that the VM disks are overlays of.
import { deleteFirst } from "../provider/delete-first";
import * as pulumi from "../provider/pulumi";
import { connect, type HostConnection } from "../transport/connection";
import { poolPath } from "./pool";
import { isCommandError } from "../transport/command";
import { virsh, targetChange, type LibvirtTarget } from "./virsh";
import { deleteOwnedVolume, deleteVolume, leftoverVolume, volumePath } from "./volume";
import { parseVolumeXml, type Owner } from "./xml";
import { withClearErrors } from "../provider/clear-errors";
import { DynamicResource } from "../provider/dynamic-resource";

export interface BaseImageInputs {
  target: LibvirtTarget;
  pool: string;
  /** Volume name in the pool. */
  name: string;
  /** http(s):// or file:// */
  url: string;
  /** Expected SHA512 (hex), or undefined to look it up in `checksumsUrl`. */
  sha512?: string;
  /** A SHA512SUMS file that lists the image under `fileName`. */
  checksumsUrl?: string;
  fileName: string;
  /** Host folder of the shared download cache. */
  cacheDir: string;
  /** The stack whose pool this is: a copy an interrupted run left there is checked and kept. */
  owner?: Owner;
}

export interface BaseImageState extends BaseImageInputs {
  /** The verified checksum (from the input or the checksums file). */
  verifiedSha512: string;
  /** Where the volume is on the host: the VM disks' backing file. */
  path: string;
  /** The image's virtual disk size in bytes: no VM disk may be smaller. */
  virtualSize?: number;
}

export interface BaseImageArgs {
  target: pulumi.Input<LibvirtTarget>;
  pool: pulumi.Input<string>;
  name: pulumi.Input<string>;
  url: pulumi.Input<string>;
  sha512?: pulumi.Input<string>;
  checksumsUrl?: pulumi.Input<string>;
  fileName: pulumi.Input<string>;
  cacheDir?: pulumi.Input<string>;
  owner?: pulumi.Input<Owner | undefined>;
}

export const DEFAULT_IMAGE_CACHE = "/var/lib/vm-cluster/images";

/** The checksum of `fileName` in a SHA512SUMS file (`<hex>  <name>` or `<hex> *<name>` lines). */
export function checksumFor(sums: string, fileName: string): string | undefined {
  for (const line of sums.split("\n")) {
    const m = /^([0-9a-fA-F]{128})\s+\*?(.+)$/.exec(line.trim());
    if (m && (m[2] === fileName || m[2].endsWith(`/${fileName}`))) return m[1].toLowerCase();
  }
  return undefined;
}

/** The volume's virtual disk size (for qcow2, what the guest sees), from libvirt. */
async function virtualSize(t: LibvirtTarget, pool: string, name: string): Promise<number> {
  return parseVolumeXml((await virsh(t, ["vol-dumpxml", "--pool", pool, name])).stdout).capacity;
}

async function sha512Of(conn: HostConnection, path: string): Promise<string> {
  return (await conn.run(["sha512sum", path])).stdout.split(/\s+/)[0].toLowerCase();
}

/**
 * curl's bounds: a mirror that takes no connection within 20 s, or sends less than a byte a second
 * for 20 s, fails the download (curl's exit 28, "Operation too slow"). A slow but steady one may
 * take its time: the command's own limit is hours.
 */
export const CURL_BOUNDS = ["--connect-timeout", "20", "--speed-limit", "1", "--speed-time", "20"];
const DOWNLOAD_SECONDS = 6 * 3600;

/** curl's own error, with what was being fetched and which setting names it. */
async function download(conn: HostConnection, what: string, setting: string, url: string, to: string[] = []): Promise<string> {
  const argv = ["curl", "-fsSL", "--retry", "2", ...CURL_BOUNDS, ...to, "--", url];
  try {
    return (await conn.run(argv, { timeoutSeconds: DOWNLOAD_SECONDS })).stdout;
  } catch (err) {
    if (!isCommandError(err)) throw err;
    // Each of curl's tries says the same: once is enough.
    const why = [...new Set(err.stderr.trim().split("\n"))].join("; ") || `curl exited with ${err.exitCode}`;
    throw new Error(`cannot download ${what} on ${conn.description}: ${why}; check ${setting} (and that the VM host reaches it)`, { cause: err });
  }
}

async function expectedSha512(conn: HostConnection, inputs: BaseImageInputs): Promise<string> {
  if (inputs.sha512) return inputs.sha512.toLowerCase();
  const url = inputs.checksumsUrl!;
  const sums = await download(conn, `the checksums file ${url}`, "image.checksumsUrl", url);
  const sha = checksumFor(sums, inputs.fileName);
  if (!sha) throw new Error(`${inputs.checksumsUrl} lists no SHA512 for ${inputs.fileName}: check image.url and image.checksumsUrl`);
  return sha;
}

/** The cached, verified image on the host, downloading it when absent; a bad download leaves nothing. */
async function cachedImage(conn: HostConnection, inputs: BaseImageInputs, sha512: string): Promise<string> {
  const cached = `${inputs.cacheDir}/${sha512}.qcow2`;
  const present = (await conn.run(["test", "-f", cached], { okCodes: [0, 1] })).code === 0;
  if (present && (await sha512Of(conn, cached)) === sha512) return cached;
  await conn.run(["mkdir", "-p", inputs.cacheDir]);
  const part = (await conn.run(["mktemp", `${cached}.part.XXXXXX`])).stdout.trim();
  try {
    await download(conn, `the base image ${inputs.url}`, "image.url", inputs.url, ["-o", part]);
    const got = await sha512Of(conn, part);
    if (got !== sha512) {
      throw new Error(`checksum mismatch for ${inputs.url}: expected SHA512 ${sha512}, got ${got}; the download was removed`);
    }
    await conn.run(["mv", "-f", part, cached]);
    return cached;
  } finally {
    await conn.run(["rm", "-f", part]);
  }
}

export const baseImageProvider: pulumi.dynamic.ResourceProvider<BaseImageInputs, BaseImageState> = withClearErrors<BaseImageInputs, BaseImageState>(
  "base image",
  {
    async check(_olds, news) {
      const failures = [];
      if (!news.sha512 === !news.checksumsUrl) failures.push({ property: "sha512", reason: "give exactly one of sha512 and checksumsUrl" });
      return { inputs: { ...news, cacheDir: news.cacheDir || DEFAULT_IMAGE_CACHE }, failures };
    },

    async create(inputs) {
      const t = inputs.target;
      const conn = connect(t.connection);
      const leftover = await leftoverVolume(t, inputs.pool, inputs.name, inputs.owner);
      const sha512 = await expectedSha512(conn, inputs);
      const id = `${inputs.pool}/${inputs.name}`;
      if (leftover !== undefined) {
        // An interrupted run's copy in our own pool: kept when complete, else copied again.
        if ((await sha512Of(conn, leftover)) === sha512) {
          return { id, outs: { ...inputs, verifiedSha512: sha512, path: leftover, virtualSize: await virtualSize(t, inputs.pool, inputs.name) } };
        }
        await deleteVolume(t, inputs.pool, inputs.name);
      }
      const cached = await cachedImage(conn, inputs, sha512);
      const path = `${await poolPath(t, inputs.pool)}/${inputs.name}`;
      // A reflink where the file system has them, else a plain copy: the cache stays pristine.
      await conn.run(["cp", "--reflink=auto", "--", cached, path]);
      await virsh(t, ["pool-refresh", inputs.pool]);
      return { id, outs: { ...inputs, verifiedSha512: sha512, path, virtualSize: await virtualSize(t, inputs.pool, inputs.name) } };
    },

    async read(id, props) {
      if (!props) return {};
      const path = await volumePath(props.target, props.pool, props.name);
      return path === undefined ? {} : { id, props: { ...props, path, virtualSize: await virtualSize(props.target, props.pool, props.name) } };
    },

    async diff(_id, olds, news) {
      const keys = ["pool", "name", "url", "sha512", "checksumsUrl", "fileName"] as const;
      const replaces: string[] = keys.filter((k) => (olds[k] ?? "") !== (news[k] ?? ""));
      const target = targetChange(olds.target, news.target);
      if (target === "moved") replaces.push("target");
      // The cache folder only says where downloads go: changing it changes nothing on the VMs.
      return { changes: replaces.length > 0 || olds.cacheDir !== news.cacheDir || target !== "same", replaces, deleteBeforeReplace: true };
    },

    async update(_id, olds, news) {
      return { outs: { ...olds, target: news.target, cacheDir: news.cacheDir } };
    },

    async delete(_id, props) {
      await deleteOwnedVolume(props.target, props.pool, props.name, props.owner);
    },
  },
);

export class BaseImage extends DynamicResource {
  declare readonly path: pulumi.Output<string>;
  declare readonly verifiedSha512: pulumi.Output<string>;
  declare readonly virtualSize: pulumi.Output<number>;

  constructor(name: string, args: BaseImageArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      baseImageProvider,
      name,
      { ...args, verifiedSha512: undefined, path: undefined, virtualSize: undefined },
      deleteFirst(opts),
      "vm-cluster",
      "BaseImage",
    );
  }
}
