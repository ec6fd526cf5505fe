// Set-up as a new user meets it: tools/setup.sh in a fresh copy of the project whose CLI, Go module,
// Go build and npm caches are empty (cold: the CLI is built from Go modules fetched anew), then once
// more in the same copy (warm). The machine's Debian packages stay installed: they are not removed
// for this. Every line set-up prints is stamped on arrival, for its longest silence.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import * as path from "node:path";
import { checkInterrupted, now } from "./sh";

export interface SetupPass {
  wallMs: number;
  exitCode: number | null;
  /** The longest time with no new line from set-up: from its start, between lines, and to its exit. */
  longestSilenceMs: number;
  /** Each line with the time since set-up started. */
  lines: { ms: number; text: string }[];
}
export interface SetupResult {
  cold: SetupPass;
  warm: SetupPass;
}

/** The longest silence of a run of `wallMs` whose lines came at `stamps` (ms since its start). */
export function longestSilence(stamps: number[], wallMs: number): number {
  let last = 0;
  let longest = 0;
  for (const t of [...stamps, wallMs]) {
    longest = Math.max(longest, t - last);
    last = t;
  }
  return longest;
}

/** PATH without any folder that holds a `pulumi`: set-up would take that CLI instead of building one. */
function pathWithoutPulumi(pathVar: string): string {
  return pathVar
    .split(":")
    .filter((dir) => !existsSync(path.join(dir, "pulumi")))
    .join(":");
}

/** What stops a running set-up, given while it runs (undefined after), so that Ctrl-C can reach it. */
type Track = (running: { kill(signal: NodeJS.Signals): void } | undefined) => void;

function pass(copy: string, env: NodeJS.ProcessEnv, track: Track): Promise<SetupPass> {
  return new Promise((resolve, reject) => {
    const t0 = now();
    const lines: SetupPass["lines"] = [];
    // A process group of its own, signalled whole: bash acts on a SIGINT of its own only once its
    // foreground command (npm ci) ends, and then only if that command died of it too.
    const child = spawn("bash", ["tools/setup.sh"], { cwd: copy, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    track({
      kill: (signal) => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, signal);
        } catch {
          // Ended already.
        }
      },
    });
    let partial = "";
    const take = (chunk: Buffer) => {
      partial += chunk.toString();
      const done = partial.split("\n");
      partial = done.pop()!;
      for (const text of done) if (text.trim()) lines.push({ ms: now() - t0, text });
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.on("error", reject);
    child.on("close", (exitCode) => {
      track(undefined);
      const wallMs = now() - t0;
      if (partial.trim()) lines.push({ ms: wallMs, text: partial });
      resolve({
        wallMs,
        exitCode,
        lines,
        longestSilenceMs: longestSilence(
          lines.map((l) => l.ms),
          wallMs,
        ),
      });
    });
  });
}

/** Copies the project's tracked files into `dir`/project and runs set-up there twice: cold, then warm. */
export async function runSetup(projectRoot: string, dir: string, log: (msg: string) => void, track: Track): Promise<SetupResult> {
  const copy = path.join(dir, "project");
  mkdirSync(copy, { recursive: true });
  execFileSync("bash", ["-c", `git ls-files -z | tar cf - --null -T - | tar xf - -C '${copy}'`], { cwd: projectRoot });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: pathWithoutPulumi(process.env.PATH ?? ""),
    VM_CLUSTER_CACHE: path.join(dir, "cache"),
    GOMODCACHE: path.join(dir, "go", "mod"),
    GOCACHE: path.join(dir, "go", "build"),
    npm_config_cache: path.join(dir, "npm"),
  };
  try {
    log("set-up: cold (empty CLI, Go and npm caches)");
    const cold = await pass(copy, env, track);
    checkInterrupted();
    if (cold.exitCode !== 0) throw new Error(`cold set-up failed (exit ${cold.exitCode}):\n${cold.lines.map((l) => l.text).join("\n")}`);
    log("set-up: warm (again in the same copy)");
    const warm = await pass(copy, env, track);
    if (warm.exitCode !== 0) throw new Error(`warm set-up failed (exit ${warm.exitCode}):\n${warm.lines.map((l) => l.text).join("\n")}`);
    return { cold, warm };
  } finally {
    // The Go module cache is read-only by design.
    execFileSync("chmod", ["-R", "u+w", dir]);
  }
}
