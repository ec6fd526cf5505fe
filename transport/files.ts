// Files on the VM host through the host connection: plain argv (test, cat, tee, rm), so the same
// code works locally, inside a network namespace, with sudo and over SSH.
import { posix } from "node:path";
import { connect, type ConnectionSpec, type HostConnection } from "./connection";
import { cleanupOnAbort } from "./process-guard";

export async function fileExists(conn: HostConnection, path: string): Promise<boolean> {
  return (await conn.run(["test", "-e", path], { okCodes: [0, 1] })).code === 0;
}

/** The file's text, or undefined when there is no such file. */
export async function readFileIfExists(conn: HostConnection, path: string): Promise<string | undefined> {
  if (!(await fileExists(conn, path))) return undefined;
  return (await conn.run(["cat", "--", path])).stdout;
}

/** Writes `content` to `path`, creating its folder; `tee` because it takes the text on stdin. */
export async function writeFile(conn: HostConnection, path: string, content: string): Promise<void> {
  await conn.run(["mkdir", "-p", "--", posix.dirname(path)]);
  await conn.run(["tee", "--", path], { input: content });
}

/** Removes a file; one that is already gone is fine. */
export async function removeFile(conn: HostConnection, path: string): Promise<void> {
  await conn.run(["rm", "-f", "--", path]);
}

/** Names in a folder; none when the folder does not exist. */
export async function listDir(conn: HostConnection, dir: string): Promise<string[]> {
  if ((await conn.run(["test", "-d", dir], { okCodes: [0, 1] })).code !== 0) return [];
  return (await conn.run(["ls", "-1A", "--", dir])).stdout.split("\n").filter((n) => n !== "");
}

/** Removes folders that are empty, innermost first; others (and missing ones) stay as they are. */
export async function removeEmptyDirs(conn: HostConnection, dirs: string[]): Promise<void> {
  for (const dir of dirs) await conn.run(["rmdir", "--ignore-fail-on-non-empty", "--", dir], { okCodes: [0, 1] });
}

/**
 * Puts `content` in a private temporary file on the host for the length of `use`. virsh reads
 * definitions and uploads from files, and `/dev/stdin` cannot be opened when standard input is a
 * socket, as it is for a spawned child; `tee` reads it like any stream.
 */
export async function withHostFile<T>(spec: ConnectionSpec, content: string | Buffer, use: (path: string) => Promise<T>): Promise<T> {
  const conn = connect(spec);
  const file = (await conn.run(["mktemp", "/tmp/vm-cluster.XXXXXXXX"])).stdout.trim();
  // It may hold a secret (readiness' private key): removed even when the provider is interrupted.
  const release = cleanupOnAbort(async () => void (await conn.run(["rm", "-f", "--", file])));
  try {
    await conn.run(["tee", "--", file], { input: content });
    return await use(file);
  } finally {
    await conn.run(["rm", "-f", "--", file]);
    release();
  }
}
