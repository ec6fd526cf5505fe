// Files named in the config (SSH keys, CA certificate) are read on the machine running
// Pulumi, through an injected reader so validation stays testable without files.
import * as path from "node:path";
import type { Parsed } from "./parsed";

export interface ConfigIo {
  /** Returns the file's text; throws when it cannot be read. */
  readFile(path: string): string;
  /** Expansion of a leading `~/`. */
  homeDir: string;
}

export function expandHome(file: string, homeDir: string): string {
  if (file === "~") return homeDir;
  return file.startsWith("~/") ? path.join(homeDir, file.slice(2)) : file;
}

/** The file's text and expanded path, or why it could not be read. */
export function readConfigFile(io: ConfigIo, file: string): Parsed<{ path: string; text: string }> {
  const expanded = expandHome(file, io.homeDir);
  try {
    return { ok: true, value: { path: expanded, text: io.readFile(expanded) } };
  } catch (error) {
    return { ok: false, reason: `cannot read ${expanded} (${(error as Error).message}); check the path and its permissions` };
  }
}
