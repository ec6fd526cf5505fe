// An sshd of the test's own, reached over a veth pair, so the SSH connection is tested over a real
// network path that never leaves this machine. It runs in a network namespace of its own, or in
// one the caller already has (a host test bed): commands over SSH then act on that namespace.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as net from "node:net";
import { writeSshdFiles } from "../../testbed/sshd-files";

export interface TestSshd {
  host: string;
  port: number;
  user: string;
  privateKey: string;
  /** The server's public key line ("ssh-ed25519 AAAA... comment"). */
  hostKey: string;
  /** Where sshd runs: its own namespace, or the one passed in. */
  netns: string;
  /** Stops sshd and removes what startSshd created (never a namespace passed in). */
  stop(): Promise<void>;
}

export interface SshdOptions {
  /** An existing network namespace to run sshd in; left in place by stop(). Default: a new one. */
  netns?: string;
}

const run = (...argv: string[]) => execFileSync(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });

/** Runs every step, even after one failed; throws the first failure afterwards. */
function allOf(steps: (() => void)[]): void {
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      step();
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length > 0) throw errors[0];
}

async function waitForPort(host: string, port: number, ms: number, gone: () => string | undefined): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port }, () => {
        s.end();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    const exited = gone();
    if (exited !== undefined) throw new Error(`sshd exited before it listened on ${host}:${port}: ${exited}`);
    if (Date.now() > until) throw new Error(`sshd on ${host}:${port} did not answer within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A process's children (sshd's: one per connection), zombies not yet reaped included. */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * Lets the connections' processes end first (a client that just disconnected), while sshd still
 * reaps them, else they would be left to init; SIGTERM for those still there after 2 s. Then sshd
 * itself: SIGTERM, SIGKILL after a while. Resolves once all are gone.
 */
async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  const start = Date.now();
  for (let sessions = childrenOf(child.pid); sessions.length > 0 && Date.now() - start < 5_000; sessions = childrenOf(child.pid)) {
    if (Date.now() - start > 2_000) {
      for (const pid of sessions) {
        try {
          process.kill(pid, "SIGTERM");
        } catch {
          /* already gone */
        }
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/**
 * `subnet` is the third octet of 10.213.<subnet>.0/30 and names the veth pair (vsh<subnet>h on this
 * side, vsh<subnet>n in the namespace): distinct per sshd running at the same time.
 */
export async function startSshd(name: string, subnet: number, opts: SshdOptions = {}): Promise<TestSshd> {
  const dir = mkdtempSync(path.join(tmpdir(), `vmc-sshd-${name}-`));
  const netns = opts.netns ?? `vmc-sshd-${name}`;
  const [hostIp, nsIp] = [`10.213.${subnet}.1`, `10.213.${subnet}.2`];
  const [vethHost, vethNs] = [`vsh${subnet}h`, `vsh${subnet}n`];
  const created = { netns: false, veth: false };
  let child: ChildProcess | undefined;
  let stopped: Promise<void> | undefined;

  // Only what this call created, each step even when an earlier one failed.
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      // The pid of `ip netns exec`, which execs sshd.
      if (child) await terminate(child);
      allOf([
        // Deleting one end deletes its peer, in whichever namespace it is.
        () => created.veth && run("ip", "link", "delete", vethHost),
        () => created.netns && run("ip", "netns", "delete", netns),
        () => rmSync(dir, { recursive: true, force: true }),
      ]);
    })());

  try {
    writeSshdFiles(dir, `${nsIp}:22`);
    if (!opts.netns) {
      run("ip", "netns", "add", netns);
      created.netns = true;
    }
    run("ip", "link", "add", vethHost, "type", "veth", "peer", "name", vethNs, "netns", netns);
    created.veth = true;
    run("ip", "addr", "add", `${hostIp}/30`, "dev", vethHost);
    run("ip", "link", "set", vethHost, "up");
    run("ip", "netns", "exec", netns, "ip", "addr", "add", `${nsIp}/30`, "dev", vethNs);
    run("ip", "netns", "exec", netns, "ip", "link", "set", vethNs, "up");
    run("ip", "netns", "exec", netns, "ip", "link", "set", "lo", "up");
    const errOut: Buffer[] = [];
    child = spawn("ip", ["netns", "exec", netns, "/usr/sbin/sshd", "-D", "-e", "-f", path.join(dir, "sshd_config")], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    child.stderr!.on("data", (b: Buffer) => errOut.push(b));
    const exited = () => (child!.exitCode !== null || child!.signalCode !== null ? Buffer.concat(errOut).toString().trim() || "no output" : undefined);
    await waitForPort(nsIp, 22, 10_000, exited);
    // From now on its log (one line per connection) is read and dropped, so the pipe never fills.
    child.stderr!.removeAllListeners("data").resume();
    return {
      host: nsIp,
      port: 22,
      user: "root",
      privateKey: readFileSync(path.join(dir, "client_key"), "utf8"),
      hostKey: readFileSync(path.join(dir, "host_key.pub"), "utf8").trim(),
      netns,
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
