// Faults of a whole `pulumi up`, with the literal CLI on a throw-away copy of this project, real
// VMs (software emulation, 384 MiB, at most two at a time) in the test bed's libvirtd, the offline
// test image from a loopback mirror. Two stacks: X (`faultx`, local connection into the daemon's
// namespace) and Y (`faulty`, over SSH to an sshd on that namespace's loopback, its pulumi running
// inside the namespace). Booted VMs are reused from case to case:
//
//   Y  disk smaller than the image: fails fast (case 6) ─┐
//   X + Y  up at once; X again at once: locked (case 4); X: one Ctrl-C in readiness (case 1)
//   X  next up converges; no duplicates (case 1)       Y  secrets nowhere in plain text (case 7); destroy
//   X  + zephyrus: Ctrl-C twice in readiness; refresh --clear-pending-creates; up converges (case 1)
//   X  domain, network, seed removed by hand: refresh reports; up killed (SIGKILL) in readiness;
//      locked; `pulumi cancel`; refresh --clear-pending-creates; up converges (cases 1, 2)
//   X  host cleaned by hand: destroy, destroy again (case 3)
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import * as path from "node:path";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyProject, engineSandbox, pulumiCli, type CliResult, type EngineSandbox } from "../../testbed/engine";
import { cleanClusterByHand } from "../support/clean-by-hand";
import { alive } from "../../testbed/host-state";
import { useLibvirt } from "../support/libvirt-fixture";
import { startTestImageMirror, type Mirror } from "../../testbed/mirror";
import {
  childrenOf,
  commandLine,
  FileBackend,
  leakAt,
  needles,
  sleep,
  startLoopbackSshd,
  startPulumi,
  waitFor,
  type LoopbackSshd,
  type Running,
} from "./fault-bed";
import { readmeCommand, runShell, userShellEnv } from "../support/readme";

const lv = useLibvirt();
const MIRROR_PORT = 18_161;
const SSHD_PORT = 18_162;
const PROJECT = "vm-cluster";
const CANARY = `vmcfault-cli-canary-${process.pid}`;

interface StackDef {
  stack: string;
  cluster: string;
  /** Third octet of 10.231.X.0/24. */
  subnet: number;
  vms: string[];
  disk: string;
  ssh: boolean;
}
const VM_NAMES = ["boreas", "zephyrus"];
const X: StackDef = { stack: "faults-x", cluster: "faultx", subnet: 61, vms: ["boreas"], disk: "3G", ssh: false };
const Y: StackDef = { stack: "faults-y", cluster: "faulty", subnet: 62, vms: ["boreas"], disk: "1G", ssh: true };

let sandbox: EngineSandbox;
let backend: FileBackend;
let project: string;
let keyFile: string;
let mirror: Mirror | undefined;
let sshd: LoopbackSshd | undefined;
/** Every CLI output, for the secret scan. */
const logs: string[] = [];
/** Plugin processes of CLIs this test killed: stopped in afterAll if still there. */
const orphans = new Set<number>();
const upStacks = new Set<string>();

const virsh = (...args: string[]) => execFileSync("virsh", ["-q", "-c", "qemu:///system", ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const virshOk = (...args: string[]) => {
  try {
    virsh(...args);
    return true;
  } catch {
    return false;
  }
};
const ns = (...argv: string[]) => execFileSync("ip", ["netns", "exec", lv.netns(), ...argv], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

/** Hostile but valid: a pool directory that a shell would split and run, and an image URL query. */
const poolDir = (def: StackDef) => `/var/lib/libvirt/images/${def.cluster} it's "a";$(cd;touch ${CANARY})\`cd;touch ${CANARY}\``;

function writeStackFile(def: StackDef): void {
  const file = path.join(project, `Pulumi.${def.stack}.yaml`);
  const net = `10.231.${def.subnet}`;
  const host = def.ssh ? { type: "ssh", host: "127.0.0.1", port: SSHD_PORT, user: "root", hostKey: sshd!.hostKey } : { type: "local", netns: lv.netns() };
  const config: Record<string, unknown> = {
    "vm-cluster:cluster": def.cluster,
    "vm-cluster:host": host,
    "vm-cluster:lan": { interface: "lan0", subnet: "10.231.200.0/24" },
    "vm-cluster:network": { cidr: `${net}.0/24`, gateway: `${net}.1`, dhcpStart: `${net}.2`, dhcpEnd: `${net}.254` },
    "vm-cluster:vms": def.vms.map((name) => ({ name, ip: `${net}.${10 + VM_NAMES.indexOf(name)}` })),
    "vm-cluster:defaults": { disk: def.disk, memoryMiB: 384, vcpus: 1 },
    "vm-cluster:sshPublicKey": { file: `${keyFile}.pub` },
    "vm-cluster:image": { url: `${mirror!.url}test-image.qcow2?from=$(cd;touch%20${CANARY})`, checksumsUrl: mirror!.checksumsUrl },
    "vm-cluster:poolDir": poolDir(def),
    "vm-cluster:domainType": "qemu",
    "vm-cluster:readinessTimeoutSeconds": 300,
    "vm-cluster:consolePassword": def.ssh,
  };
  // Keep what `pulumi config set --secret` wrote (the SSH key, the salt), merged into our objects.
  const doc = existsSync(file) ? ((parseYaml(readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> }) : {};
  const merged: Record<string, unknown> = { ...doc.config };
  for (const [key, value] of Object.entries(config)) {
    const old = merged[key];
    merged[key] = old && typeof old === "object" && !Array.isArray(old) && typeof value === "object" && !Array.isArray(value) ? { ...old, ...value } : value;
  }
  writeFileSync(file, toYaml({ ...doc, config: merged }));
}

function start(def: StackDef, ...args: string[]): Running {
  return startPulumi(project, sandbox.env, ["--stack", def.stack, ...args], def.ssh ? lv.netns() : undefined);
}
async function pulumi(def: StackDef, ...args: string[]): Promise<CliResult> {
  const r = await start(def, ...args).done;
  logs.push(r.out);
  return r;
}
async function ok(def: StackDef, ...args: string[]): Promise<string> {
  const r = await pulumi(def, ...args);
  expect(r.code, `pulumi ${args.join(" ")} (${def.stack}):\n${r.out}`).toBe(0);
  return r.out;
}
/** A command as README shows it, typed in the project folder, where stack X is the selected one. */
async function typed(command: string): Promise<CliResult> {
  const r = await runShell(command, { cwd: project, env: userShellEnv(sandbox.env), timeoutMs: 500_000 });
  logs.push(r.out);
  expect(r.code, r.out).toBe(0);
  return r;
}
async function outputs(def: StackDef): Promise<Record<string, any>> {
  const r = await pulumiCli(project, sandbox.env, ["--stack", def.stack, "stack", "output", "--json"]);
  logs.push(r.out);
  return JSON.parse(r.stdout);
}
async function exported(def: StackDef, showSecrets: boolean): Promise<string> {
  const r = await pulumiCli(project, sandbox.env, ["--stack", def.stack, "stack", "export", ...(showSecrets ? ["--show-secrets"] : [])]);
  expect(r.code, r.out).toBe(0);
  return r.stdout;
}

// What the host holds of a cluster: the test's own view, not the code's.
const domainsOf = (def: StackDef) =>
  virsh("list", "--all", "--name")
    .split("\n")
    .map((n) => n.trim())
    .filter((n) => n.startsWith(`${def.cluster}-`))
    .sort();
const volumesOf = (def: StackDef) =>
  virshOk("pool-info", `${def.cluster}-pool`)
    ? virsh("vol-list", `${def.cluster}-pool`)
        .split("\n")
        .map((l) => l.trim().split(/\s+/)[0]!)
        .filter(Boolean)
        .sort()
    : [];
const rulesOf = (def: StackDef) =>
  ns("iptables-save")
    .split("\n")
    .filter((l) => l.includes(`--comment "vm-cluster:${def.cluster}"`));
const networkUp = (def: StackDef) => virshOk("net-info", def.cluster) && /Active:\s+yes/.test(virsh("net-info", def.cluster));
const expectedVolumes = (def: StackDef) =>
  [`${def.cluster}-base.qcow2`, ...def.vms.flatMap((vm) => [`${def.cluster}-${vm}-cidata.iso`, `${def.cluster}-${vm}.qcow2`])].sort();

/** Runs a command in a VM over ssh as a user does: the stack's ssh_config and known_hosts file, strict host key checking. */
async function onVm(def: StackDef, vm: string, ...command: string[]): Promise<string> {
  const out = await outputs(def);
  const config = path.join(sandbox.dir, `${def.stack}.ssh_config`);
  writeFileSync(config, out.sshConfig);
  const argv = ["ssh", "-F", config, "-i", keyFile, "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", vm, ...command];
  return ns(...argv).trim();
}
const hostnameOf = (def: StackDef, vm: string) => onVm(def, vm, "hostname");

/** The cluster exactly as configured: one of each, nothing twice, nothing left over. */
async function expectConverged(def: StackDef): Promise<void> {
  expect(domainsOf(def)).toEqual(def.vms.map((vm) => `${def.cluster}-${vm}`).sort());
  for (const d of domainsOf(def)) expect(virsh("domstate", d).trim()).toBe("running");
  expect(volumesOf(def)).toEqual(expectedVolumes(def));
  expect(rulesOf(def)).toHaveLength(3);
  expect(networkUp(def)).toBe(true);
  expect(backend.pending(def.stack)).toEqual([]);
  expect(backend.locks(def.stack)).toEqual([]);
  for (const vm of def.vms) expect(await hostnameOf(def, vm)).toBe(vm);
}

/** Waits until the CLI shows `<cluster>-<vm>-ready` creating: the VM is booting and readiness waits for it. */
async function untilReadinessWaits(run: Running, def: StackDef, vm: string): Promise<void> {
  const pattern = new RegExp(`${def.cluster}-${vm}-ready\\s+creating`);
  await waitFor(`${def.cluster}-${vm}'s readiness in the output of pulumi up`, () => pattern.test(run.out()) || run.child.exitCode !== null, 300_000);
  expect(run.child.exitCode, run.out()).toBeNull();
  await sleep(2_000);
}

/** Files a provider put in /tmp on the host that still hold one of these secrets. */
function secretTempFiles(secrets: string[]): string[] {
  return readdirSync("/tmp")
    .filter((f) => f.startsWith("vm-cluster."))
    .filter((f) => {
      try {
        const text = readFileSync(path.join("/tmp", f), "utf8");
        return secrets.some((s) => needles(s).some((n) => text.includes(n)));
      } catch {
        return false;
      }
    });
}

/** The seed provider's local folders (each holds a VM's private host key) still in /tmp. */
function seedFolders(): string[] {
  return readdirSync("/tmp").filter((f) => f.startsWith("vm-cluster-seed-"));
}

/** Private keys and passwords among a stack's outputs, from `stack export --show-secrets`. */
async function secretsOf(def: StackDef): Promise<string[]> {
  const deployment = JSON.parse(await exported(def, true)).deployment as { resources?: { outputs?: Record<string, unknown> }[] };
  const found: string[] = [];
  // A secret shows as { <signature>: ..., plaintext: "<JSON of the value>" }.
  const reveal = (v: unknown): unknown => (v && typeof v === "object" && "plaintext" in v ? JSON.parse(String((v as { plaintext: unknown }).plaintext)) : v);
  for (const r of deployment.resources ?? []) {
    for (const key of ["privateKey", "password", "provisionerPrivateKey"]) {
      const v = reveal(r.outputs?.[key]);
      if (typeof v === "string" && v.length >= 16) found.push(v);
    }
  }
  return [...new Set(found)];
}

function canaries(): string[] {
  return [homedir(), "/root", "/", process.cwd(), project, "/tmp"].map((d) => path.join(d, CANARY)).filter((f) => existsSync(f));
}

/** Removes a cluster's objects by hand, as an admin cleaning the host would (not through vm-cluster). */
beforeAll(async () => {
  sandbox = engineSandbox("faults");
  backend = new FileBackend(sandbox.backendDir, PROJECT);
  project = path.join(sandbox.dir, "project");
  copyProject(project);
  keyFile = path.join(sandbox.dir, "id_ed25519");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "faults@test", "-f", keyFile]);
  mirror = await startTestImageMirror(path.join(sandbox.dir, "mirror"), lv.netns(), MIRROR_PORT);
  sshd = await startLoopbackSshd(lv.netns(), SSHD_PORT);
  for (const def of [X, Y]) {
    writeStackFile(def);
    const init = await pulumiCli(project, sandbox.env, ["stack", "init", def.stack]);
    expect(init.code, init.out).toBe(0);
  }
  // README's recovery commands name no stack: they act on the selected one.
  expect((await pulumiCli(project, sandbox.env, ["stack", "select", X.stack])).code).toBe(0);
  // As the README says: the private key from standard input or after `--`, as a secret.
  await ok(Y, "config", "set", "--secret", "--path", "vm-cluster:host.privateKey", "--", sshd.privateKey);
}, 600_000);

afterAll(async () => {
  for (const pid of orphans) if (alive(pid)) process.kill(pid, "SIGKILL");
  for (const def of [X, Y]) {
    if (!upStacks.has(def.stack)) continue;
    await pulumi(def, "cancel", "--yes");
    const r = await pulumi(def, "destroy", "--yes", "--skip-preview");
    if (r.code !== 0) console.error(`faults: destroy of ${def.stack} failed; cleaning by hand:\n${r.out}`);
    cleanClusterByHand(def.cluster, lv.netns());
  }
  mirror?.stop();
  await sshd?.stop();
  sandbox?.cleanup();
}, 900_000);

describe("a disk smaller than the base image (case 6)", () => {
  it("fails fast, before any VM exists, naming the cause and the fix", async () => {
    upStacks.add(Y.stack);
    const started = Date.now();
    const r = await pulumi(Y, "up", "--yes", "--skip-preview");
    expect(r.code, r.out).not.toBe(0);
    expect(r.out).toContain(
      "the disk (1G) is smaller than the base image's virtual size (2G): the guest would not boot; set defaults.disk (or this VM's vms[].disk) to at least 2G",
    );
    expect(domainsOf(Y)).toEqual([]);
    expect(Date.now() - started).toBeLessThan(120_000);
  }, 300_000);
});

describe("two stacks at once, the same stack twice, and one Ctrl-C (cases 4 and 1)", () => {
  it("both clusters come up apart; the second up of the same stack is refused by the lock; Ctrl-C waits for the booting VM, then stops cleanly", async () => {
    upStacks.add(X.stack);
    Y.disk = "3G"; // the fix for the case above: the same stack now comes up
    writeStackFile(Y);
    const x = start(X, "up", "--yes", "--skip-preview");
    const y = start(Y, "up", "--yes", "--skip-preview", "--json");
    await waitFor("the lock of the first up", () => backend.locks(X.stack).length > 0, 60_000);
    const again = await pulumi(X, "up", "--yes", "--skip-preview");
    expect(again.code).not.toBe(0);
    expect(again.out).toMatch(
      /the stack is currently locked by 1 lock\(s\)\. Either wait for the other process\(es\) to end or delete the lock file with `pulumi cancel`\./,
    );
    expect(again.out).toContain(`(pid ${x.pid})`);

    await untilReadinessWaits(x, X, "boreas");
    x.child.kill("SIGINT");
    const interrupted = Date.now();
    const [rx, ry] = await Promise.all([x.done, y.done]);
    logs.push(rx.out, ry.out);
    // The first Ctrl-C lets the operations in flight finish: readiness returned once the VM was up.
    expect(rx.code, rx.out).not.toBe(0);
    expect(rx.out).toMatch(/update canceled/);
    console.log(`faults: after one Ctrl-C, pulumi up ended ${((Date.now() - interrupted) / 1000).toFixed(0)} s later, when boreas was ready`);
    expect(backend.resourceNames(X.stack)).toContain("faultx-boreas-ready");
    expect(backend.resourceNames(X.stack)).not.toContain("faultx-firewall");
    expect(backend.pending(X.stack)).toEqual([]);
    expect(backend.locks(X.stack)).toEqual([]);

    expect(ry.code, ry.out).toBe(0);
    await expectConverged(Y);
    // Apart: each its own domain, network, bridge, pool and rules.
    expect(domainsOf(X)).toEqual(["faultx-boreas"]);
    expect(virsh("net-dumpxml", X.cluster)).toContain("vmc-faultx");
    expect(virsh("net-dumpxml", Y.cluster)).toContain("vmc-faulty");
    expect(rulesOf(Y).every((l) => l.includes("10.231.62.0/24"))).toBe(true);
  }, 600_000);

  it("the next up converges: the firewall rules the canceled run never reached; nothing twice", async () => {
    await ok(X, "up", "--yes", "--skip-preview");
    await expectConverged(X);
    expect(canaries()).toEqual([]);
    expect(existsSync(poolDir(X))).toBe(true);
  }, 300_000);
});

describe("secrets (case 7)", () => {
  it("the host's SSH key, the console password and the VMs' private keys appear in plain text nowhere: state, stack files, outputs, logs", async () => {
    const secrets = [sshd!.privateKey, ...(await secretsOf(Y)), ...(await secretsOf(X))];
    const consolePassword = JSON.parse(
      (await pulumiCli(project, sandbox.env, ["--stack", Y.stack, "stack", "output", "--json", "--show-secrets"])).stdout,
    ).consolePassword;
    expect(consolePassword).toMatch(/^[2-9a-zA-Z]{20}$/);
    secrets.push(consolePassword);
    // The needles are real: the unmasked export shows every one of them.
    const revealed = (await exported(X, true)) + (await exported(Y, true));
    for (const s of secrets.slice(1)) for (const n of needles(s)) expect(revealed).toContain(n);
    expect(secrets.length).toBeGreaterThanOrEqual(6); // SSH key, password, provisioner and host keys of both stacks

    const haystacks: [string, string][] = [
      ["the file backend (state, history, backups)", backend.allText()],
      ["the stack files", [X, Y].map((d) => readFileSync(path.join(project, `Pulumi.${d.stack}.yaml`), "utf8")).join("\n")],
      ["stack export", (await exported(X, false)) + (await exported(Y, false))],
      ["stack output --json", JSON.stringify([await outputs(X), await outputs(Y)])],
      ["pulumi's output, plain and --json", logs.join("\n")],
    ];
    for (const [where, text] of haystacks) {
      for (const [i, s] of secrets.entries()) expect(leakAt(text, s), `secret ${i} in ${where}`).toBeUndefined();
    }
    expect(secretTempFiles(secrets)).toEqual([]);
  }, 300_000);

  it("destroy of the SSH stack leaves none of its objects", async () => {
    await ok(Y, "destroy", "--yes", "--skip-preview");
    upStacks.delete(Y.stack);
    expect(domainsOf(Y)).toEqual([]);
    expect(volumesOf(Y)).toEqual([]);
    expect(rulesOf(Y)).toEqual([]);
    expect(virshOk("net-info", Y.cluster)).toBe(false);
    expect(existsSync(poolDir(Y))).toBe(false);
  }, 300_000);
});

describe("interrupted hard (case 1)", () => {
  it("Ctrl-C twice while a VM boots stops at once; `refresh --clear-pending-creates` clears the pending create; the next up converges", async () => {
    X.vms = ["boreas", "zephyrus"];
    writeStackFile(X);
    const provisionerKey = (await secretsOf(X)).filter((s) => s.includes("PRIVATE KEY"));
    const run = start(X, "up", "--yes", "--skip-preview");
    await untilReadinessWaits(run, X, "zephyrus");
    const plugins = childrenOf(run.pid);
    run.child.kill("SIGINT");
    await sleep(1_000);
    run.child.kill("SIGINT");
    const interrupted = Date.now();
    const r = await run.done;
    logs.push(r.out);
    expect(r.code, r.out).not.toBe(0);
    expect(Date.now() - interrupted).toBeLessThan(20_000);
    await waitFor("the plugins of the interrupted pulumi to exit", () => plugins.every((p) => !alive(p)), 15_000);
    expect(backend.pending(X.stack)).toEqual(["faultx-zephyrus-ready creating"]);
    expect(backend.locks(X.stack)).toEqual([]);
    // The provider was interrupted in the middle of readiness: its temporary key file went with it.
    expect(secretTempFiles(provisionerKey)).toEqual([]);
    expect(seedFolders()).toEqual([]);

    // What README's Reliability section says to type.
    const refreshed = await typed(readmeCommand("pulumi refresh --clear-pending-creates --yes"));
    expect(refreshed.out).not.toMatch(/error/i);
    expect(backend.pending(X.stack)).toEqual([]);
    await typed(readmeCommand("pulumi up"));
    await expectConverged(X);
  }, 600_000);

  it("a domain, the network and a volume removed by hand are reported by refresh; an up killed with SIGKILL while the new domain boots leaves a lock that `pulumi cancel` removes; then up converges", async () => {
    // Pulled out like a plug, but after a sync: the guest wrote its host keys at first boot moments
    // ago, and ext4 may not have them on disk yet (a power cut then leaves them empty, and no sshd).
    await onVm(X, "zephyrus", "sync");
    virsh("destroy", "faultx-zephyrus");
    virsh("undefine", "faultx-zephyrus", "--nvram");
    virsh("net-destroy", X.cluster);
    virsh("net-undefine", X.cluster);
    virsh("vol-delete", "--pool", "faultx-pool", "faultx-boreas-cidata.iso");
    const refreshed = await ok(X, "refresh", "--yes");
    for (const name of ["faultx-zephyrus-domain", "faultx-network", "faultx-boreas-seed"]) {
      expect(refreshed).toMatch(new RegExp(`${name}\\s+deleted`));
    }
    expect(backend.resourceNames(X.stack)).not.toContain("faultx-network");

    const provisionerKey = (await secretsOf(X)).filter((s) => s.includes("PRIVATE KEY"));
    const run = start(X, "up", "--yes", "--skip-preview");
    await untilReadinessWaits(run, X, "zephyrus");
    const plugins = childrenOf(run.pid);
    for (const p of plugins) orphans.add(p);
    const provider = plugins.find((p) => commandLine(p).includes("provider-host.js"));
    run.child.kill("SIGKILL");
    logs.push((await run.done).out);
    expect(provider, plugins.map(commandLine).join("\n")).toBeDefined();
    // The provider notices that the engine is gone and stops (within a second or so), taking its temporary files along.
    await waitFor("the orphaned dynamic provider to exit", () => !alive(provider!), 10_000);
    expect(secretTempFiles(provisionerKey)).toEqual([]);
    expect(seedFolders()).toEqual([]);
    // So does our language host (engine/), with the program it ran: no plugin is left behind.
    for (const p of plugins) await waitFor(`plugin ${commandLine(p)} to exit`, () => !alive(p), 10_000);

    expect(backend.locks(X.stack)).toHaveLength(1);
    const locked = await pulumi(X, "up", "--yes", "--skip-preview");
    expect(locked.code).not.toBe(0);
    expect(locked.out).toMatch(/the stack is currently locked by 1 lock\(s\).*`pulumi cancel`/s);
    expect(locked.out).toContain(`(pid ${run.pid})`);
    // README's recovery, as typed: the pid is gone (ps finds nothing), then cancel, refresh, up.
    const ps = await runShell(readmeCommand("ps -p N", { N: String(run.pid) }), { cwd: project });
    expect(ps.code, ps.out).toBe(1);
    expect((await typed(readmeCommand("pulumi cancel --yes"))).out).toContain("has been canceled");
    expect(backend.locks(X.stack)).toEqual([]);
    expect(backend.pending(X.stack)).toContain("faultx-zephyrus-ready creating");
    await typed(readmeCommand("pulumi refresh --clear-pending-creates --yes"));
    expect(backend.pending(X.stack)).toEqual([]);
    await typed(readmeCommand("pulumi up"));
    // boreas kept running through all of it: back on the recreated network's bridge.
    await expectConverged(X);
  }, 600_000);
});

describe("destroy (case 3)", () => {
  it("after the host was cleaned by hand succeeds, and a second destroy succeeds too", async () => {
    cleanClusterByHand(X.cluster, lv.netns());
    expect(domainsOf(X)).toEqual([]);
    const first = await ok(X, "destroy", "--yes", "--skip-preview");
    expect(first).toMatch(/deleted/);
    upStacks.delete(X.stack);
    const second = await ok(X, "destroy", "--yes", "--skip-preview");
    expect(second).not.toMatch(/error/i);
    expect(backend.resourceNames(X.stack)).toEqual([]);
    expect(existsSync(poolDir(X))).toBe(false);
    expect(existsSync(`/var/lib/vm-cluster/ip-forward/users/${PROJECT}.${X.stack}`)).toBe(false);
    expect(canaries()).toEqual([]);
  }, 300_000);
});
