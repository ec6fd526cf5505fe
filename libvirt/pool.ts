// A dir storage pool: defined, built, started and autostarted; its directory is removed on delete
// only when this resource created it.
import { deleteFirst } from "../provider/delete-first";
import * as pulumi from "../provider/pulumi";
import { connect } from "../transport/connection";
import { defineXml, exists, nameTakenError, parseInfo, virsh, virshIfExists, targetChange, type LibvirtTarget } from "./virsh";
import { buildPoolXml, ownerUuid, parsePoolXml, type Owner } from "./xml";
import { undoThenThrow, withClearErrors } from "../provider/clear-errors";
import { leftAloneWarning } from "../provider/warning";
import { DynamicResource } from "../provider/dynamic-resource";

export interface StoragePoolInputs {
  target: LibvirtTarget;
  name: string;
  path: string;
  /**
   * The stack that defines the pool: its UUID is derived from it, which proves the pool ours (an
   * interrupted create is finished, not refused) and, with it, the volumes in it (see volume.ts).
   */
  owner?: Owner;
}

export interface StoragePoolState extends StoragePoolInputs {
  /** Whether create made the directory (and so delete removes it). */
  createdDir: boolean;
  active: boolean;
  autostart: boolean;
}

export interface StoragePoolArgs {
  target: pulumi.Input<LibvirtTarget>;
  name: pulumi.Input<string>;
  path: pulumi.Input<string>;
  owner?: pulumi.Input<Owner>;
}

/** The seed's pool permissions: root-owned, world-readable (QEMU runs as another user). */
const SEED_PERMISSIONS = { mode: "0755", owner: 0, group: 0 };

/** A pool's directory on the host, from its live XML. */
export async function poolPath(t: LibvirtTarget, pool: string): Promise<string> {
  return parsePoolXml((await virsh(t, ["pool-dumpxml", pool])).stdout).target.path;
}

/**
 * What is at the pool's path before create. Only a new or empty directory is used: libvirt's
 * pool-build changes the owner and mode of an existing one, and destroy would remove what it holds.
 */
async function dirAtPath(t: LibvirtTarget, path: string): Promise<"none" | "empty"> {
  const conn = connect(t.connection);
  const kind = await conn.run(["stat", "-c", "%F", "--", path], { okCodes: [0, 1] });
  if (kind.code !== 0) return "none";
  const fix = `set vm-cluster:poolDir to a directory that does not exist yet (\`pulumi up\` makes it), or to an empty one`;
  if (kind.stdout.trim() !== "directory")
    throw new Error(`the storage pool directory ${path} (poolDir) on ${conn.description} is a ${kind.stdout.trim()}, not a directory: ${fix}`);
  const listing = await conn.run(["ls", "-A", "--", path]);
  if (listing.stdout.trim() !== "") {
    throw new Error(
      `the storage pool directory ${path} (poolDir) on ${conn.description} already exists and is not empty; vm-cluster never takes over ` +
        `a directory it did not create (libvirt would change its owner and mode, and destroy would remove its files). Nothing was changed: ${fix}`,
    );
  }
  return "empty";
}

async function readPool(t: LibvirtTarget, name: string): Promise<{ path: string; active: boolean; autostart: boolean } | undefined> {
  const xml = await virshIfExists(t, ["pool-dumpxml", name]);
  if (xml === undefined) return undefined;
  const info = parseInfo((await virsh(t, ["pool-info", name])).stdout);
  return { path: parsePoolXml(xml).target.path, active: info.State === "running", autostart: info.Autostart === "yes" };
}

async function ensureRunning(t: LibvirtTarget, name: string, state: { active: boolean; autostart: boolean }): Promise<void> {
  if (!state.active) await virsh(t, ["pool-start", name]);
  if (!state.autostart) await virsh(t, ["pool-autostart", name]);
}

/** Marks the UUID of a pool defined over a directory that was there: destroy must leave that directory. */
const OVER_USER_DIR = "over-existing-directory";

function poolUuid(owner: Owner, pool: string, createdDir: boolean): string {
  return createdDir ? ownerUuid(owner, pool) : ownerUuid(owner, pool, OVER_USER_DIR);
}

/** Which of this stack's UUIDs a pool carries: whether this stack made its directory or found it there. */
type PoolMark = "made-dir" | "user-dir";

/** The pool's mark, or none (not ours). */
async function poolMark(t: LibvirtTarget, pool: string, owner: Owner | undefined): Promise<PoolMark | undefined> {
  if (owner === undefined) return undefined;
  const uuid = (await virshIfExists(t, ["pool-uuid", pool]))?.trim();
  return uuid === poolUuid(owner, pool, true) ? "made-dir" : uuid === poolUuid(owner, pool, false) ? "user-dir" : undefined;
}

/** Whether the pool carries a UUID derived from `owner`: then this stack defined it. */
export async function poolOwnedBy(t: LibvirtTarget, pool: string, owner: Owner | undefined): Promise<boolean> {
  return (await poolMark(t, pool, owner)) !== undefined;
}

/** Finishes a create that was interrupted after pool-define: the pool is ours (its UUID says so, and whether the directory was there). */
async function adoptPool(
  t: LibvirtTarget,
  inputs: StoragePoolInputs,
  mark: PoolMark,
  live: { path: string; active: boolean; autostart: boolean },
): Promise<StoragePoolState> {
  if (live.path !== inputs.path) {
    throw new Error(
      `storage pool ${inputs.name} left by an interrupted run has its directory at ${live.path}, not ${inputs.path}: ` +
        `run \`pulumi destroy\`, or remove it by hand (virsh pool-destroy ${inputs.name}; virsh pool-undefine ${inputs.name})`,
    );
  }
  // A directory that was there stays the user's; one we made is ours while it is empty (destroy removes it).
  const listing = await connect(t.connection).run(["ls", "-A", "--", inputs.path], { okCodes: [0, 2] });
  const createdDir = listing.code !== 0 || (mark === "made-dir" && listing.stdout.trim() === "");
  if (listing.code !== 0) await virsh(t, ["pool-build", inputs.name]);
  await ensureRunning(t, inputs.name, live);
  return { ...inputs, createdDir, active: true, autostart: true };
}

export const storagePoolProvider: pulumi.dynamic.ResourceProvider<StoragePoolInputs, StoragePoolState> = withClearErrors<StoragePoolInputs, StoragePoolState>(
  "storage pool",
  {
    async create(inputs) {
      const t = inputs.target;
      // Existence first: a pool made by hand may lack what parsing ours expects (its permissions).
      if (await exists(t, "pool", inputs.name)) {
        const mark = await poolMark(t, inputs.name, inputs.owner);
        if (mark !== undefined) return { id: inputs.name, outs: await adoptPool(t, inputs, mark, (await readPool(t, inputs.name))!) };
        throw nameTakenError("storage pool", inputs.name, `virsh pool-destroy ${inputs.name}; virsh pool-undefine ${inputs.name}`);
      }
      const createdDir = (await dirAtPath(t, inputs.path)) === "none";
      const uuid = inputs.owner && poolUuid(inputs.owner, inputs.name, createdDir);
      await defineXml(t, ["pool-define"], buildPoolXml({ name: inputs.name, uuid, target: { path: inputs.path, permissions: SEED_PERMISSIONS } }));
      try {
        // An empty directory that was there is used as it is: its owner and mode stay the user's.
        if (createdDir) await virsh(t, ["pool-build", inputs.name]);
        await ensureRunning(t, inputs.name, { active: false, autostart: false });
      } catch (err) {
        // Leave nothing half-made behind.
        await undoThenThrow(err, [
          { what: `undefining the pool (virsh pool-undefine ${inputs.name})`, run: () => virsh(t, ["pool-undefine", inputs.name]) },
          ...(createdDir
            ? [
                {
                  what: `removing ${inputs.path}`,
                  run: () => connect(t.connection).run(["rmdir", "--ignore-fail-on-non-empty", "--", inputs.path], { okCodes: [0, 1] }),
                },
              ]
            : []),
        ]);
      }
      return { id: inputs.name, outs: { ...inputs, createdDir, active: true, autostart: true } };
    },

    async read(id, props) {
      const live = props && (await readPool(props.target, id));
      if (!props || !live) return {};
      return { id, props: { ...props, ...live } };
    },

    async diff(_id, olds, news) {
      const replaces: string[] = (["name", "path"] as const).filter((k) => olds[k] !== news[k]);
      const target = targetChange(olds.target, news.target);
      if (target === "moved") replaces.push("target");
      const drift = !olds.active || !olds.autostart;
      return { changes: replaces.length > 0 || drift || target !== "same", replaces, deleteBeforeReplace: true };
    },

    async update(id, olds, news) {
      await ensureRunning(news.target, id, olds);
      // The owner the pool's UUID was made from stays (a renamed stack keeps proving its pool).
      return { outs: { ...news, owner: olds.owner, createdDir: olds.createdDir, active: true, autostart: true } };
    },

    async delete(id, props) {
      const t = props.target;
      const live = await readPool(t, id);
      // State from before pools carried the owner UUID has no owner: that pool is removed by name, as then.
      if (live && props.owner !== undefined && !(await poolOwnedBy(t, id, props.owner))) {
        leftAloneWarning(`storage pool ${id}`, `virsh pool-destroy ${id}; virsh pool-undefine ${id}`);
        return;
      }
      if (live) {
        if (live.active) await virsh(t, ["pool-destroy", id]);
        // pool-delete removes the directory, and fails while it still holds volumes: nothing is lost silently.
        if (props.createdDir) await virsh(t, ["pool-delete", id]);
        await virsh(t, ["pool-undefine", id]);
      } else if (props.createdDir) {
        await connect(t.connection).run(["rmdir", "--ignore-fail-on-non-empty", props.path], { okCodes: [0, 1] });
      }
    },
  },
);

/** The cluster's own storage pool (the seed's `<cluster>-pool`). */
export class StoragePool extends DynamicResource {
  declare readonly name: pulumi.Output<string>;
  declare readonly path: pulumi.Output<string>;
  /** The owner the pool's UUID was derived from when it was made: what proves its volumes ours. */
  declare readonly owner: pulumi.Output<Owner | undefined>;

  constructor(name: string, args: StoragePoolArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      storagePoolProvider,
      name,
      { ...args, createdDir: undefined, active: undefined, autostart: undefined },
      deleteFirst(opts),
      "vm-cluster",
      "StoragePool",
    );
  }
}
