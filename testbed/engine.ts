// The real pulumi engine for tests: the wrapper that setup wrote, with a throw-away file backend
// and passphrase per test, so tests never touch the user's state.
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

export const projectRoot = path.resolve(__dirname, "..");
export const toolsRoot = path.join(projectRoot, ".tools");
export const pulumiBin = path.join(toolsRoot, "bin", "pulumi");

export interface EngineSandbox {
  dir: string;
  backendDir: string;
  env: Record<string, string>;
  cleanup(): void;
}

export function engineSandbox(prefix: string): EngineSandbox {
  if (!existsSync(pulumiBin)) {
    throw new Error(`${pulumiBin} is missing: run tools/setup.sh (npm test does) first`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), `vmc-${prefix}-`));
  const backendDir = path.join(dir, "state");
  const passphraseFile = path.join(dir, "passphrase");
  mkdirSync(backendDir);
  writeFileSync(passphraseFile, "test-passphrase\n", { mode: 0o600 });
  const env = {
    PULUMI_BACKEND_URL: `file://${backendDir}`,
    PULUMI_CONFIG_PASSPHRASE_FILE: passphraseFile,
    PULUMI_HOME: path.join(dir, "home"),
  };
  return { dir, backendDir, env, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface CliResult {
  code: number | null;
  /** stdout and stderr together, for messages. */
  out: string;
  stdout: string;
}

export interface RunOptions {
  cwd: string;
  env?: Record<string, string>;
  /** Standard input; closed at once by default. */
  input?: string;
  timeoutMs?: number;
  /** Sent when the timeout passes; SIGKILL follows a minute later if it is still running. */
  timeoutSignal?: NodeJS.Signals;
  /**
   * Run in a process group of its own and signal the whole group on timeout: for shell lines, whose
   * programs would otherwise outlive the shell (and keep its output open).
   */
  group?: boolean;
}

/** A process run to its end, its output collected; `env` is added to this process's. */
export function runProcess(file: string, args: string[], options: RunOptions): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
      detached: options.group === true,
    });
    const signal = (sig: NodeJS.Signals) => {
      try {
        if (options.group === true) process.kill(-child.pid!, sig);
        else child.kill(sig);
      } catch {
        // already gone
      }
    };
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b));
    child.stderr.on("data", (b: Buffer) => (stderr += b));
    child.on("error", reject);
    child.stdin.end(options.input ?? "");
    let killer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      signal(options.timeoutSignal ?? "SIGTERM");
      killer = setTimeout(() => signal("SIGKILL"), 60_000);
    }, options.timeoutMs ?? 900_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      clearTimeout(killer);
      resolve({ code, out: `${stdout}\n${stderr}`, stdout });
    });
  });
}

/** The literal `pulumi` a user types, in `cwd`, with the sandbox's state and passphrase. */
export function pulumiCli(cwd: string, env: Record<string, string>, args: string[], timeoutMs = 900_000): Promise<CliResult> {
  // SIGINT: pulumi's own Ctrl-C, which lets it release its lock.
  return runProcess(pulumiBin, args, { cwd, env, timeoutMs, timeoutSignal: "SIGINT" });
}

/** A throw-away copy of this project (its own stack files and state), sharing node_modules. */
export function copyProject(dest: string): void {
  const skip = new Set(["node_modules", ".git", ".tools", ".state", "bench"]);
  mkdirSync(dest, { recursive: true });
  for (const entry of readdirSync(projectRoot)) {
    if (skip.has(entry) || /^Pulumi\..+\.yaml$/.test(entry)) continue;
    cpSync(path.join(projectRoot, entry), path.join(dest, entry), { recursive: true });
  }
  symlinkSync(path.join(projectRoot, "node_modules"), path.join(dest, "node_modules"));
}
