// An sshd of the test's own, in a network namespace of its own reached over a veth pair, so the
// SSH connection is tested over a real network path that never leaves this machine.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as net from "node:net";

export interface TestSshd {
  host: string;
  port: number;
  user: string;
  privateKey: string;
  /** The server's public key line ("ssh-ed25519 AAAA... comment"). */
  hostKey: string;
  netns: string;
  stop(): void;
}

const run = (...argv: string[]) => execFileSync(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });

async function waitForPort(host: string, port: number, ms: number): Promise<void> {
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
    if (Date.now() > until) throw new Error(`sshd on ${host}:${port} did not answer within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `subnet` is the third octet of 10.213.<subnet>.0/30: distinct per test file. */
export async function startSshd(name: string, subnet: number): Promise<TestSshd> {
  const dir = mkdtempSync(path.join(tmpdir(), `vmc-sshd-${name}-`));
  const netns = `vmc-sshd-${name}`;
  const [hostIp, nsIp] = [`10.213.${subnet}.1`, `10.213.${subnet}.2`];
  const vethHost = `vsh${subnet}h`;
  let child: ChildProcess | undefined;
  const stop = () => {
    if (child?.pid) {
      try {
        process.kill(child.pid, "SIGTERM");
      } catch {
        /* already gone */
      }
    }
    try {
      run("ip", "netns", "delete", netns); // removes the veth pair with it
    } catch {
      /* never created */
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "host_key"));
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "client_key"));
    writeFileSync(path.join(dir, "authorized_keys"), readFileSync(path.join(dir, "client_key.pub")), { mode: 0o600 });
    writeFileSync(
      path.join(dir, "sshd_config"),
      [
        `ListenAddress ${nsIp}:22`,
        `HostKey ${path.join(dir, "host_key")}`,
        `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
        `PidFile ${path.join(dir, "sshd.pid")}`,
        "PermitRootLogin prohibit-password",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "StrictModes no",
        "",
      ].join("\n"),
    );
    mkdirSync("/run/sshd", { recursive: true });
    run("ip", "netns", "add", netns);
    run("ip", "link", "add", vethHost, "type", "veth", "peer", "name", `vsh${subnet}n`, "netns", netns);
    run("ip", "addr", "add", `${hostIp}/30`, "dev", vethHost);
    run("ip", "link", "set", vethHost, "up");
    run("ip", "netns", "exec", netns, "ip", "addr", "add", `${nsIp}/30`, "dev", `vsh${subnet}n`);
    run("ip", "netns", "exec", netns, "ip", "link", "set", `vsh${subnet}n`, "up");
    run("ip", "netns", "exec", netns, "ip", "link", "set", "lo", "up");
    child = spawn("ip", ["netns", "exec", netns, "/usr/sbin/sshd", "-D", "-e", "-f", path.join(dir, "sshd_config")], {
      stdio: "ignore",
    });
    await waitForPort(nsIp, 22, 10_000);
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
    stop();
    throw err;
  }
}
