// README's quick start, typed as shown in this project folder: `npm run demo` brings the demo
// cluster up and prints how to SSH into each VM, those commands work, and `npm run demo:down`
// takes away everything the demo made or started.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanClusterByHand } from "../support/clean-by-hand";
import { projectRoot } from "../../testbed/engine";
import { alive, netnsExists } from "../../testbed/host-state";
import { readmeCommand, runShell } from "../support/readme";

const demoDir = path.join(projectRoot, ".state", "demo");
const stackFile = path.join(projectRoot, "Pulumi.demo.yaml");
const stackState = path.join(projectRoot, ".state", ".pulumi", "stacks", "vm-cluster", "demo.json");
const DEMO_NETNS = "vmc-demo";

const pidIn = (file: string) => (existsSync(file) ? Number(readFileSync(file, "utf8").trim()) : undefined);
const libvirtReachable = () => {
  try {
    execFileSync("virsh", ["-q", "-c", "qemu:///system", "version"], { stdio: "ignore", timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
};
const virshNames = (...args: string[]) =>
  execFileSync("virsh", ["-q", "-c", "qemu:///system", ...args], { encoding: "utf8" })
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);

/** Set once no demo of the user's was found: only then is the demo this test's to take down. */
let ours = false;
let upOk = false;
let downOk = false;
/** What the demo started itself, by pid, read while it runs: down must stop exactly these. */
const started: { what: string; pid: number }[] = [];
let netnsBefore = false;
let libvirtBefore = false;
/**
 * The demo runs in this folder and its state, as a user's does, but with a PULUMI_HOME of its own:
 * `pulumi stack select` there leaves the user's selected stack alone.
 */
const pulumiHome = mkdtempSync(path.join(tmpdir(), "vmc-demo-home-"));
const demoEnv = { PULUMI_HOME: pulumiHome };

beforeAll(() => {
  // Never take over (or take down) a user's demo.
  if (existsSync(stackFile) || existsSync(demoDir)) {
    throw new Error(`a demo is already up in ${projectRoot} (${stackFile} or ${demoDir} exists): take it down with npm run demo:down, then run the tests`);
  }
  ours = true;
  netnsBefore = netnsExists(DEMO_NETNS);
  libvirtBefore = libvirtReachable();
});

afterAll(async () => {
  if (ours && !downOk && (existsSync(stackFile) || existsSync(demoDir))) {
    const r = await runShell("npm run demo:down", { cwd: projectRoot, env: demoEnv, timeoutMs: 500_000 });
    if (r.code !== 0) {
      // demo:down keeps what it could not destroy; a test leaves nothing: by hand, then by pid.
      console.error(`demo test: npm run demo:down failed; cleaning by hand:\n${r.out}`);
      cleanClusterByHand("demo", netnsExists(DEMO_NETNS) ? DEMO_NETNS : undefined);
      for (const { pid } of started) if (alive(pid)) process.kill(pid, "SIGTERM");
      if (!netnsBefore && netnsExists(DEMO_NETNS)) execFileSync("ip", ["netns", "delete", DEMO_NETNS]);
      rmSync(stackFile, { force: true });
      rmSync(demoDir, { recursive: true, force: true });
      rmSync(stackState, { force: true });
    }
  }
  rmSync(pulumiHome, { recursive: true, force: true });
}, 600_000);

describe("the demo", () => {
  it("comes up with `npm run demo` and prints ssh commands that reach each VM", async () => {
    const r = await runShell(readmeCommand("npm run demo"), { cwd: projectRoot, env: demoEnv, timeoutMs: 1_100_000 });
    expect(r.code, r.out).toBe(0);
    for (const [what, file] of [
      ["libvirtd", "libvirtd.pid"],
      ["virtlogd", "virtlogd.pid"],
    ] as const) {
      const pid = pidIn(path.join(demoDir, file));
      if (pid !== undefined) started.push({ what, pid });
    }
    // Printed after "SSH into each VM with:", one indented line per VM.
    const printed =
      r.stdout
        .split("SSH into each VM with:")[1]
        ?.split("\n")
        .filter((l) => l.startsWith("  "))
        .map((l) => l.trim()) ?? [];
    expect(
      printed.map((l) => l.split(" ").at(-1)),
      r.out,
    ).toEqual(["boreas", "zephyrus"]);
    for (const line of printed) {
      // Typed as printed; the login shell reads the command from standard input.
      const ssh = await runShell(line, { cwd: projectRoot, input: "hostname\n", timeoutMs: 60_000 });
      expect(ssh.code, ssh.out).toBe(0);
      expect(ssh.stdout.split("\n")).toContain(line.split(" ").at(-1));
    }
    upOk = true;
  }, 1_200_000);

  it("goes away with `npm run demo:down`, with everything the demo started", async () => {
    expect(upOk, "the demo did not come up").toBe(true);
    const r = await runShell(readmeCommand("npm run demo:down"), { cwd: projectRoot, env: demoEnv, timeoutMs: 500_000 });
    downOk = r.code === 0;
    expect(r.code, r.out).toBe(0);
    expect(existsSync(stackFile)).toBe(false);
    expect(existsSync(demoDir)).toBe(false);
    expect(existsSync(stackState)).toBe(false);
    for (const { what, pid } of started) expect(alive(pid), `${what} (pid ${pid}), started by the demo`).toBe(false);
    expect(netnsExists(DEMO_NETNS)).toBe(netnsBefore);
    // Nothing of the cluster in libvirt's own files, whether or not a daemon still runs to ask.
    const leftovers = [
      ...[
        "/etc/libvirt/qemu/demo-boreas.xml",
        "/etc/libvirt/qemu/demo-zephyrus.xml",
        "/etc/libvirt/qemu/networks/demo.xml",
        "/etc/libvirt/storage/demo-pool.xml",
        "/var/lib/libvirt/images/demo",
      ],
      ...["/var/log/libvirt/qemu/demo-boreas.log", "/var/log/libvirt/qemu/demo-zephyrus.log"],
      // The known_hosts file the stack kept for its ssh_config.
      path.join(projectRoot, ".vm-cluster", "demo"),
    ].filter((file) => existsSync(file));
    expect(leftovers).toEqual([]);
    // The image mirror is gone too (the demo stops it by pid once the image is in the pool).
    expect(execFileSync("ps", ["-eo", "args"], { encoding: "utf8" })).not.toContain(`http.server 18098`);
    // A libvirtd that ran before the demo still runs, without any of the demo's objects.
    expect(libvirtReachable()).toBe(libvirtBefore);
    if (libvirtBefore) {
      expect(virshNames("list", "--all", "--name").filter((n) => n.startsWith("demo-"))).toEqual([]);
      expect(virshNames("net-list", "--all", "--name")).not.toContain("demo");
      expect(virshNames("pool-list", "--all", "--name")).not.toContain("demo-pool");
    }
  }, 600_000);
});
