// What the CLI fault tests need beyond test/support: the literal `pulumi` as a process they can
// interrupt (SIGINT, SIGKILL) while it runs, optionally inside a network namespace; a look into
// the file backend (pending operations, lock files); an sshd on the loopback of a namespace; and
// the secrets' needles to look for in text.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { pulumiBin, type CliResult } from "../../testbed/engine";
import { writeSshdFiles } from "../../testbed/sshd-files";
import { sleep } from "../../testbed/wait";

export { sleep, waitFor } from "../../testbed/wait";

export interface Running {
  /** The CLI's pid (the wrapper and `ip netns exec` exec it). */
  pid: number;
  child: ChildProcess;
  /** stdout and stderr so far. */
  out(): string;
  done: Promise<CliResult>;
}

/** `pulumi <args>` in `cwd`, in `netns` when given, not awaited: the caller may signal it. */
export function startPulumi(cwd: string, env: Record<string, string>, args: string[], netns?: string): Running {
  const [cmd, argv] = netns ? ["ip", ["netns", "exec", netns, pulumiBin, ...args]] : [pulumiBin, args];
  const child = spawn(cmd, argv, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (b: Buffer) => (stdout += b));
  child.stderr!.on("data", (b: Buffer) => (stderr += b));
  const done = new Promise<CliResult>((resolve) => child.on("close", (code) => resolve({ code, out: `${stdout}\n${stderr}`, stdout })));
  return { pid: child.pid!, child, out: () => `${stdout}\n${stderr}`, done };
}

/**
 * Direct children of a process (the CLI's plugins: language host, dynamic provider). From every
 * process's PPid: a Go program forks from any of its threads, and /proc/<pid>/task/<tid>/children
 * lists only one thread's.
 */
export function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = /^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${entry}/status`, "utf8"))?.[1];
      if (Number(ppid) === pid) children.push(Number(entry));
    } catch {
      /* gone meanwhile */
    }
  }
  return children;
}

export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
  } catch {
    return "";
  }
}

/** The file backend of a sandbox, as `pulumi` keeps it (project-scoped stacks). */
export class FileBackend {
  constructor(
    private readonly dir: string,
    private readonly project: string,
  ) {}

  checkpoint(stack: string): { resources?: { urn: string; type: string }[]; pending_operations?: { resource: { urn: string }; type: string }[] } {
    const file = path.join(this.dir, ".pulumi", "stacks", this.project, `${stack}.json`);
    return JSON.parse(readFileSync(file, "utf8")).checkpoint.latest ?? {};
  }

  /** "<resource name> <operation>" per pending operation. */
  pending(stack: string): string[] {
    return (this.checkpoint(stack).pending_operations ?? []).map((op) => `${op.resource.urn.split("::").pop()} ${op.type}`);
  }

  resourceNames(stack: string): string[] {
    return (this.checkpoint(stack).resources ?? []).map((r) => r.urn.split("::").pop()!);
  }

  locks(stack: string): string[] {
    const dir = path.join(this.dir, ".pulumi", "locks", "organization", this.project, stack);
    return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".json")) : [];
  }

  /** Every file of the backend (state, history, backups, locks), for secret scans. */
  allText(): string {
    const texts: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d)) {
        const p = path.join(d, e);
        if (statSync(p).isDirectory()) walk(p);
        else texts.push(readFileSync(p, "utf8"));
      }
    };
    walk(this.dir);
    return texts.join("\n");
  }
}

/**
 * Lines of a secret long enough to be unique: found in text whether raw or JSON-escaped. The first
 * line of an OpenSSH private key is the same for every ed25519 key (format header): left out.
 */
export function needles(secret: string): string[] {
  let lines = secret
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => !l.startsWith("-----"));
  if (secret.includes("-----BEGIN OPENSSH PRIVATE KEY-----")) lines = lines.slice(1);
  lines = lines.filter((l) => l.length >= 16);
  return lines.length > 0 ? lines : [secret];
}

/** Where in `text` a needle of `secret` is, with some context, the needle itself masked; undefined when absent. */
export function leakAt(text: string, secret: string): string | undefined {
  for (const n of needles(secret)) {
    const at = text.indexOf(n);
    if (at >= 0) return `${text.slice(Math.max(0, at - 300), at)}<SECRET>${text.slice(at + n.length, at + n.length + 100)}`;
  }
  return undefined;
}

export interface LoopbackSshd {
  port: number;
  privateKey: string;
  /** The server's public key line. */
  hostKey: string;
  stop(): Promise<void>;
}

async function listening(netns: string, port: number): Promise<boolean> {
  try {
    execFileSync("ip", ["netns", "exec", netns, "bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/${port}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * An sshd on 127.0.0.1:`port` inside `netns`, root by key only: a "remote" VM host that is this
 * machine, reached only by programs running in that namespace (no veth, loopback traffic only).
 */
export async function startLoopbackSshd(netns: string, port: number): Promise<LoopbackSshd> {
  const dir = mkdtempSync(path.join(tmpdir(), "vmc-faults-sshd-"));
  writeSshdFiles(dir, `127.0.0.1:${port}`, ["MaxStartups 100"]);
  const child = spawn("ip", ["netns", "exec", netns, "/usr/sbin/sshd", "-D", "-e", "-f", path.join(dir, "sshd_config")], {
    stdio: ["ignore", "ignore", "ignore"],
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, sleep(5_000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const until = Date.now() + 10_000;
    while (!(await listening(netns, port))) {
      if (child.exitCode !== null) throw new Error(`sshd exited (${child.exitCode}) before it listened`);
      if (Date.now() > until) throw new Error(`sshd did not listen on 127.0.0.1:${port} in ${netns}`);
      await sleep(100);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    port,
    privateKey: readFileSync(path.join(dir, "client_key"), "utf8"),
    hostKey: readFileSync(path.join(dir, "host_key.pub"), "utf8").trim(),
    stop,
  };
}
