// Both host connections run argv as inert data, report failures with command, exit code and
// stderr, and the SSH one refuses a host key other than the configured one.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, isCommandError, type CommandError, shellQuote, type ConnectionSpec } from "../../transport/connection";
import { KEEPALIVE_COUNT, KEEPALIVE_MS, REMOTE_GRACE_SECONDS } from "../../transport/ssh-connection";
import { startSshd, type TestSshd } from "../support/sshd";

const hostile = ["it's", "a;b", "$(touch /tmp/vmc-pwned)", "`id`", "two words", "line\nbreak", "*", "", "--flag"];

let sshd: TestSshd;
let work: string;
beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "vmc-conn-"));
  sshd = await startSshd("conn", 1);
});
afterAll(async () => {
  await sshd?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether `pid` ends within `ms`. */
async function gone(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (alive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
  return !alive(pid);
}

/** Stops what a test started, by the pid it wrote, whatever the test's outcome. */
function killFromFile(pidFile: string): void {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8"));
  if (Number.isInteger(pid) && pid > 0 && alive(pid)) process.kill(pid, "SIGKILL");
}

const specs = (): [string, ConnectionSpec][] => [
  ["local", { type: "local" }],
  ["ssh", { type: "ssh", host: sshd.host, port: sshd.port, user: sshd.user, privateKey: sshd.privateKey, hostKey: sshd.hostKey }],
];

describe.each(["local", "ssh"])("%s connection", (kind) => {
  const spec = () => specs().find(([k]) => k === kind)![1];

  it("passes every argument through unchanged, so no shell ever interprets config values", async () => {
    const r = await connect(spec()).run(["printf", "%s\\0", ...hostile]);
    expect(r.stdout.split("\0").slice(0, -1)).toEqual(hostile);
  });

  it("feeds standard input", async () => {
    const r = await connect(spec()).run(["cat"], { input: "from stdin\n" });
    expect(r.stdout).toBe("from stdin\n");
  });

  it("reports the command, exit code and stderr of a failure", async () => {
    const err = await connect(spec())
      .run(["ls", "/no/such/path"])
      .catch((e: unknown) => e);
    expect(isCommandError(err)).toBe(true);
    expect((err as CommandError).exitCode).toBe(2);
    expect((err as CommandError).message).toMatch(/`ls \/no\/such\/path`.*exit 2.*No such file/s);
  });

  it("accepts exit codes declared as fine", async () => {
    expect((await connect(spec()).run(["false"], { okCodes: [0, 1] })).code).toBe(1);
  });

  it("stops a command at its time limit and says so, and the command does not run on (issue 19)", async () => {
    const pidFile = path.join(work, `${kind}-sleep.pid`);
    const started = Date.now();
    try {
      const err = await connect(spec())
        .run(["sh", "-c", `echo $$ > ${pidFile}; echo waiting for nothing >&2; exec sleep 30`], { timeoutSeconds: 1 })
        .catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(isCommandError(err) && err.timedOut).toBe(true);
      expect((err as CommandError).message).toMatch(
        /`sh -c .*sleep 30` on .* did not finish within 1 s, so it was stopped; its last output: waiting for nothing/,
      );
      // The SSH side is stopped by the host's `timeout`, REMOTE_GRACE_SECONDS after ours.
      expect(await gone(Number(readFileSync(pidFile, "utf8")), (REMOTE_GRACE_SECONDS + 5) * 1000)).toBe(true);
    } finally {
      killFromFile(pidFile);
    }
  });

  it("runs inside the configured network namespace", async () => {
    const r = await connect({ ...spec(), netns: sshd.netns }).run(["ip", "-o", "addr", "show"]);
    expect(r.stdout).toContain(sshd.host);
  });
});

describe("a local command that ignores TERM and leaves a child holding its output open (issue 19)", () => {
  it("ends the wait 5 s after the time limit instead of waiting for the child", async () => {
    const pidFile = path.join(work, "ignores-term.pid");
    const started = Date.now();
    try {
      const script = `trap "" TERM; sleep 60 & echo $! > ${pidFile}; wait`;
      const err = await connect({ type: "local" })
        .run(["sh", "-c", script], { timeoutSeconds: 1 })
        .catch((e: unknown) => e);
      expect(isCommandError(err) && err.timedOut, String(err)).toBe(true);
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      killFromFile(pidFile);
    }
  });
});

describe("an SSH link that stops answering (issue 19)", () => {
  it("fails the command within the keepalive bound, naming the host, instead of waiting for it", async () => {
    const spec: ConnectionSpec = { type: "ssh", host: sshd.host, port: sshd.port, user: sshd.user, privateKey: sshd.privateKey, hostKey: sshd.hostKey };
    const drop = ["INPUT", "-p", "tcp", "--dport", String(sshd.port), "-j", "DROP"];
    const started = Date.now();
    const running = connect(spec)
      .run(["sleep", "120"])
      .catch((e: unknown) => e);
    try {
      // Once the command runs, the host goes silent: every packet to sshd is dropped.
      await new Promise((r) => setTimeout(r, 2_000));
      execFileSync("ip", ["netns", "exec", sshd.netns, "iptables", "-I", ...drop]);
      const err = await running;
      const bound = (KEEPALIVE_MS * KEEPALIVE_COUNT) / 1000;
      expect((err as Error).message).toMatch(new RegExp(`${sshd.host}:${sshd.port} stopped answering \\(no reply to SSH keepalives for ${bound} s\\)`));
      expect(Date.now() - started).toBeLessThan((bound + 15) * 1000);
    } finally {
      execFileSync("ip", ["netns", "exec", sshd.netns, "iptables", "-D", ...drop], { stdio: "ignore" });
    }
  }, 60_000);
});

describe("ssh host key checking", () => {
  const base = () => ({ type: "ssh" as const, host: sshd.host, port: sshd.port, user: sshd.user, privateKey: sshd.privateKey });

  it("accepts the key's SHA256 fingerprint", async () => {
    const blob = Buffer.from(sshd.hostKey.split(/\s+/)[1], "base64");
    const fp = `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
    expect((await connect({ ...base(), hostKey: fp }).run(["true"])).code).toBe(0);
  });

  it("refuses a host whose key is not the configured one", async () => {
    const other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
    await expect(connect({ ...base(), hostKey: other }).run(["true"])).rejects.toThrow(/host key .* does not match/);
  });
});

describe("shellQuote", () => {
  it("leaves plain words alone and quotes the rest", () => {
    expect(shellQuote(["virsh", "-c", "qemu:///system", "it's", ""])).toBe(`virsh -c qemu:///system 'it'\\''s' ''`);
  });
});
