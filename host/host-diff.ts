// The diff every host resource shares. Only real properties count: a connection to another host
// (or namespace) replaces; a new way to reach the same host (sudo, SSH user or key) is an update
// that re-applies nothing new; anything a provider reports as drift is an update.
import { isDeepStrictEqual } from "node:util";
import { hostIdentity, type ConnectionSpec } from "../transport/connection";

export { hostIdentity };

export interface HostDiffResult {
  changes: boolean;
  replaces: string[];
  deleteBeforeReplace: boolean;
}

/**
 * `replaceKeys`: inputs that name another thing on the host (a path, a marker, a cluster).
 * Delete before replace: the old change is undone before the new one records the host's state.
 */
export function hostDiff<T extends { connection: ConnectionSpec }>(
  olds: T,
  news: T,
  replaceKeys: readonly (keyof T & string)[],
  drift: boolean,
): HostDiffResult {
  const replaces: string[] = replaceKeys.filter((k) => !isDeepStrictEqual(olds[k], news[k]));
  // A connection not known yet (preview of a computed value) may reach another host.
  const identity = (c: ConnectionSpec) => (typeof c === "object" && c !== null ? hostIdentity(c) : "unknown");
  if (identity(olds.connection) !== identity(news.connection)) replaces.push("connection");
  const reach = !isDeepStrictEqual(olds.connection, news.connection);
  return { changes: replaces.length > 0 || reach || drift, replaces, deleteBeforeReplace: true };
}
