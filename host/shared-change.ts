// A host setting that several stacks change together (ip_forward, libvirt's firewall backend).
// Each stack leaves a marker file; the first records what was there before, on the host itself
// (the stack that joined first may leave first); only the last one to leave puts it back.
import { posix } from "node:path";
import * as pulumi from "../provider/pulumi";
import type { HostConnection } from "../transport/connection";
import { fileExists, listDir, readFileIfExists, removeEmptyDirs, removeFile, writeFile } from "../transport/files";

export const DEFAULT_STATE_DIR = "/var/lib/vm-cluster";

/** Marker names: safe file names; the default is `<project>.<stack>`. */
export const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export interface SharedChangePaths {
  /** vm-cluster's own folder on the host (removed when empty). */
  stateDir: string;
  /** This change's folder. */
  dir: string;
  /** One empty file per stack that needs the change. */
  usersDir: string;
  /** JSON of what the first user found. */
  previousFile: string;
}

export function sharedChangePaths(stateDir: string, change: string): SharedChangePaths {
  const dir = posix.join(stateDir, change);
  return { stateDir, dir, usersDir: posix.join(dir, "users"), previousFile: posix.join(dir, "previous.json") };
}

/** One marker per stack: `<project>.<stack>` (run in the program, not in a provider). */
export function defaultUser(): string {
  return `${pulumi.getProject()}.${pulumi.getStack()}`;
}

export function checkUserName(user: string): void {
  if (!USER_NAME.test(user)) {
    throw new Error(`user "${user}" is not a usable marker file name: use letters, digits, ".", "_" and "-" (at most 128)`);
  }
}

export async function changeUsers(conn: HostConnection, paths: SharedChangePaths): Promise<string[]> {
  return listDir(conn, paths.usersDir);
}

export async function isUser(conn: HostConnection, paths: SharedChangePaths, user: string): Promise<boolean> {
  return fileExists(conn, posix.join(paths.usersDir, user));
}

/**
 * Records `capture()` unless a record exists or another stack already uses the change. A record
 * left by a failed first attempt is kept: it still holds what the host had before any of us.
 * Two stacks that start at once may both capture; the record is created exclusively (link(2)
 * fails on an existing name), so the first one's stands: it captured before it changed anything,
 * while a later capture could already see the first stack's change.
 */
export async function recordPrevious<T>(conn: HostConnection, paths: SharedChangePaths, capture: () => Promise<T>): Promise<void> {
  if (await fileExists(conn, paths.previousFile)) return;
  if ((await changeUsers(conn, paths)).length > 0) return;
  const content = `${JSON.stringify(await capture())}\n`;
  await conn.run(["mkdir", "-p", "--", paths.dir]);
  const draft = (await conn.run(["mktemp", `${paths.previousFile}.XXXXXX`])).stdout.trim();
  try {
    await conn.run(["tee", "--", draft], { input: content });
    await conn.run(["ln", "--", draft, paths.previousFile], { okCodes: [0, 1] });
  } finally {
    await removeFile(conn, draft);
  }
}

export async function addUser(conn: HostConnection, paths: SharedChangePaths, user: string): Promise<void> {
  checkUserName(user);
  await writeFile(conn, posix.join(paths.usersDir, user), "");
}

export type LeaveResult<T> =
  | { last: false; remaining: string[] }
  /** `previous` is undefined when the record was lost (then nothing can be restored). */
  | { last: true; previous: T | undefined };

/** Removes `user`'s marker; when it was the last, returns the record for the caller to restore. */
export async function removeUser<T>(conn: HostConnection, paths: SharedChangePaths, user: string): Promise<LeaveResult<T>> {
  checkUserName(user);
  await removeFile(conn, posix.join(paths.usersDir, user));
  const remaining = await changeUsers(conn, paths);
  if (remaining.length > 0) return { last: false, remaining };
  const text = await readFileIfExists(conn, paths.previousFile);
  return { last: true, previous: text === undefined ? undefined : (JSON.parse(text) as T) };
}

/** After the last user restored the host: drop the record and our folders, if empty. */
export async function forgetPrevious(conn: HostConnection, paths: SharedChangePaths): Promise<void> {
  await removeFile(conn, paths.previousFile);
  await removeEmptyDirs(conn, [paths.usersDir, paths.dir, paths.stateDir]);
}
