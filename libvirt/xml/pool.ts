// A directory storage pool: the cluster's own place for its disks, so teardown cannot touch others'.
import { attrs, buildDocument, parseCount, parseDocument, requiredChild, requiredText } from "./codec";

/** `<pool type='dir'>`. libvirt adds uuid, capacity, allocation, available and an empty source. */
export interface Pool {
  name: string;
  /** Given at definition to mark the pool as ours (see ownerUuid); not read back by parsePoolXml. */
  uuid?: string;
  target: {
    path: string;
    permissions: PoolPermissions;
  };
}

/** pool-build applies them to the directory; a started pool reports what the directory has. */
export interface PoolPermissions {
  /** Four octal digits, as libvirt prints them ("0755"); any other spelling would read back as drift. */
  mode: string;
  owner: number;
  group: number;
}

export function buildPoolXml(pool: Pool): string {
  const { mode, owner, group } = pool.target.permissions;
  if (!/^[0-7]{4}$/.test(mode)) throw new Error(`pool ${pool.name}: mode '${mode}' is not four octal digits`);
  return buildDocument("pool", {
    ...attrs({ type: "dir" }),
    name: pool.name,
    ...(pool.uuid !== undefined && { uuid: pool.uuid }),
    target: {
      path: pool.target.path,
      permissions: { mode, owner: String(owner), group: String(group) },
    },
  });
}

export function parsePoolXml(xml: string): Pool {
  const root = parseDocument(xml, "pool");
  const name = requiredText(root, "name", "pool");
  const where = `pool ${name}`;
  const target = requiredChild(root, "target", where);
  const permissions = requiredChild(target, "permissions", where);
  return {
    name,
    target: {
      path: requiredText(target, "path", where),
      permissions: {
        mode: requiredText(permissions, "mode", where),
        owner: parseCount(requiredText(permissions, "owner", where), where),
        group: parseCount(requiredText(permissions, "group", where), where),
      },
    },
  };
}
