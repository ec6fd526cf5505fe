// `npm run bench`: how long vm-cluster takes on this host, against a floor of plain virsh, in one run.
//
//   0. set-up (BENCH_SETUP=1, the default): tools/setup.sh in a fresh copy of the project with empty
//      CLI, Go and npm caches, then again (bench/setup-run.ts)
//   1. the empty program (a project with no resources): `pulumi up --yes`, `preview` and `refresh
//      --yes`, median of BENCH_REPEATS each: the engine's own cost
//   2. for each N in BENCH_SIZES (default 1,2,4): the floor, N VMs with plain virsh all at once (same
//      image, seed, CA certificate and readiness condition) → SSH + cloud-init done; then `pulumi up
//      --yes` from nothing to all-ready on a stack of N, with a per-resource timeline from the
//      engine's events; the ratio of the two. The largest size runs BENCH_PAIRS such pairs, one
//      after the other, and its ratio is their median: with more VMs than cores its boots vary most
//   3. on the largest cluster: no-op `pulumi up --yes`, `preview` and `refresh --yes`, as ratios to
//      the empty program's
//   4. `pulumi destroy --yes` of every cluster
//   5. disk bytes per VM after up (overlay + seed) and the base image's
//
// Results: bench/results/latest.json, latest.md and latest-timeline.svg (the largest up's steps
// against its floor). Guests are 384 MiB, 1 vCPU, with a CA certificate.
// Everything runs in the libvirt daemon's network namespace (reused when one runs, as the tests do),
// and everything the run makes is removed again, also on failure or Ctrl-C.
import { spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify as toYaml } from "yaml";
import { copyProject, engineSandbox, projectRoot, pulumiBin, type EngineSandbox } from "../testbed/engine";
import { startLibvirtd, stopLibvirtd } from "../testbed/libvirtd";
import { startMirror } from "../testbed/mirror";
import { DEFAULT_IMAGE_CACHE } from "../libvirt/base-image";
import { POLL_MS as PRODUCT_POLL_MS } from "../guest/readiness";
import { throwawayCa } from "../testbed/ca";
import { byType, criticalPath, EventSink, idleMs, timeline, workSteps, type PathSegment } from "./events";
import { fileBytes, qemuImgInfo, runFloor } from "./floor";
import { runSetup } from "./setup-run";
import { renderMarkdown } from "./report";
import { renderTimelineSvg } from "./timeline-svg";
import {
  floorOf,
  shownUps,
  type Settings,
  type Machine,
  type CommandRun,
  type VmDisk,
  type ClusterDisk,
  type UpResult,
  type OwnCost,
  type Results,
  type FloorRun,
  type RepeatedRuns,
} from "./results";
import { checkInterrupted, interrupt, median, now, ok, run, secs, virsh, virshTry } from "./sh";

const VM_NAMES = ["boreas", "zephyrus", "notus", "eurus"];
const MEMORY_MIB = 384;
const DISK = "3G";
const DISK_BYTES = 3 * 1024 ** 3;
/** Third octets of 10.231.X.0/24: the floor's, then 170 + N for the N-VM cluster. */
const FLOOR_SUBNET = 170;
const subnetOf = (n: number) => 170 + n;
const clusterOf = (n: number) => `vmcbench${n}`;
const stackOf = (n: number) => `bench-${n}`;

function readSettings(kvmUsable: boolean): Settings {
  const raw = process.env.BENCH_SIZES ?? "1,2,4";
  const sizes = [
    ...new Set(
      raw
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
        .map(Number),
    ),
  ].sort((a, b) => a - b);
  if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 1 || n > VM_NAMES.length)) {
    throw new Error(`BENCH_SIZES=${raw}: give cluster sizes from 1 to ${VM_NAMES.length}, comma-separated (e.g. 1,2,4)`);
  }
  const repeats = Number(process.env.BENCH_REPEATS ?? "3");
  if (!Number.isInteger(repeats) || repeats < 1 || repeats > 20) throw new Error(`BENCH_REPEATS=${process.env.BENCH_REPEATS}: a whole number from 1 to 20`);
  const setup = (process.env.BENCH_SETUP ?? "1") !== "0";
  const pairs = Number(process.env.BENCH_PAIRS ?? "3");
  if (!Number.isInteger(pairs) || pairs < 1 || pairs > 10) throw new Error(`BENCH_PAIRS=${process.env.BENCH_PAIRS}: a whole number from 1 to 10`);
  const floorPollMs = Number(process.env.BENCH_FLOOR_POLL_MS ?? "250");
  if (!Number.isInteger(floorPollMs) || floorPollMs < 50) throw new Error(`BENCH_FLOOR_POLL_MS=${process.env.BENCH_FLOOR_POLL_MS}: at least 50`);
  const domainType = (process.env.BENCH_DOMAIN_TYPE ?? (kvmUsable ? "kvm" : "qemu")) as Settings["domainType"];
  if (domainType !== "kvm" && domainType !== "qemu") throw new Error(`BENCH_DOMAIN_TYPE=${domainType}: kvm or qemu`);
  return { sizes, repeats, setup, pairs, floorPollMs, domainType };
}

const log = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

// ---- the machine ----

async function runningDomains(): Promise<number> {
  return (await virsh("list", "--name")).split("\n").filter((l) => l.trim() && !l.startsWith("vmcb")).length;
}

async function machineInfo(): Promise<Machine> {
  const cpus = os.cpus();
  const devKvm = existsSync("/dev/kvm");
  const cpuFlag = /\b(vmx|svm)\b/.test(readFileSync("/proc/cpuinfo", "utf8"));
  // The library's version needs no daemon: this runs before the bench starts one where none runs.
  const libvirtVersion = (await ok(["virsh", "--version"])).trim();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    memoryMiB: Math.round(os.totalmem() / 2 ** 20),
    kvm: { devKvm, cpuFlag, usable: devKvm && cpuFlag },
    kernel: os.release(),
    node: process.version,
    pulumi: (await ok([pulumiBin, "version"])).trim(),
    libvirt: libvirtVersion || "unknown",
    qemu: /QEMU emulator version (\S+)/.exec(await ok(["qemu-system-x86_64", "--version"]))?.[1] ?? "unknown",
    loadAverageStart: os.loadavg().map((x) => Number(x.toFixed(2))),
    otherRunningDomainsStart: await runningDomains().catch(() => 0), // no daemon yet: nothing runs
  };
}

// ---- the CLI, with its events ----

/** What SIGINT is passed on to: the running command (a process, or set-up's process group). */
let currentChild: { kill(signal: NodeJS.Signals): unknown } | undefined;

async function pulumi(
  sink: EventSink,
  sandbox: EngineSandbox,
  cwd: string,
  label: string,
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<CommandRun & { out: string }> {
  const events = sink.record();
  const logFile = path.join(sandbox.dir, "logs", `${label}.log`);
  mkdirSync(path.dirname(logFile), { recursive: true });
  const logStream = createWriteStream(logFile);
  let tail = "";
  const othersBefore = await runningDomains().catch(() => -1);
  const t0 = now();
  // PULUMI_DEBUG_COMMANDS: the CLI offers --event-log only with it (the Automation API sets it too).
  const engineRun = args.some((a) => ["up", "preview", "destroy", "refresh"].includes(a));
  const child = spawn(pulumiBin, engineRun ? [...args, "--event-log", sink.address] : args, {
    cwd,
    env: { ...process.env, ...sandbox.env, PULUMI_DEBUG_COMMANDS: "true", ...extraEnv },
    stdio: ["ignore", "pipe", "pipe"],
  });
  currentChild = child;
  const collect = (b: Buffer) => {
    logStream.write(b);
    tail = (tail + b.toString()).slice(-20_000);
  };
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  const timer = setTimeout(() => child.kill("SIGINT"), 45 * 60_000);
  const code = await new Promise<number>((resolve) => child.on("close", (c) => resolve(c ?? -1)));
  const t1 = now();
  clearTimeout(timer);
  currentChild = undefined;
  logStream.end();
  const othersAfter = await runningDomains().catch(() => -1);
  // The CLI waits for our answer to each event stream before it goes on, so every event is in.
  return { label, code, wallMs: t1 - t0, timeline: timeline(events, t0, t1), otherVms: [othersBefore, othersAfter], out: tail };
}

function must<T extends { code: number; out: string; label: string }>(r: T): T {
  if (r.code !== 0) throw new Error(`pulumi (${r.label}) exited with ${r.code}:\n${r.out.split("\n").slice(-60).join("\n")}`);
  return r;
}

const strip = ({ label, code, wallMs, timeline: t, otherVms }: CommandRun): CommandRun => ({ label, code, wallMs, timeline: t, otherVms });

// ---- disks ----

async function clusterDisk(cluster: string, vms: string[]): Promise<ClusterDisk> {
  const dir = `/var/lib/libvirt/images/${cluster}`;
  const perVm: VmDisk[] = [];
  for (const vm of vms) {
    const overlay = `${dir}/${cluster}-${vm}.qcow2`;
    perVm.push({
      vm,
      overlayBytes: await fileBytes(overlay),
      overlayActualBytes: (await qemuImgInfo(overlay)).actualSize,
      seedBytes: await fileBytes(`${dir}/${cluster}-${vm}-cidata.iso`),
    });
  }
  const base = `${dir}/${cluster}-base.qcow2`;
  return {
    perVm,
    baseBytes: await fileBytes(base),
    baseVirtualBytes: (await qemuImgInfo(base)).virtualSize,
    poolBytes: Number((await ok(["du", "-sB1", "--", dir])).split(/\s+/)[0]),
  };
}

/** What a cluster left on the host after destroy (should be nothing). */
async function leftovers(cluster: string, netns: string): Promise<string[]> {
  const left: string[] = [];
  const logs = readdirSync("/var/log/libvirt/qemu").filter((f) => f.startsWith(`${cluster}-`));
  if (logs.length) left.push(`logs ${logs.join(" ")}`);
  const rules = (await ok(["ip", "netns", "exec", netns, "iptables-save"])).split("\n").filter((l) => l.includes(`vm-cluster:${cluster}`));
  if (rules.length) left.push(`${rules.length} iptables rule(s) tagged vm-cluster:${cluster}`);
  for (const d of (await virsh("list", "--all", "--name")).split("\n").map((l) => l.trim())) if (d.startsWith(`${cluster}-`)) left.push(`domain ${d}`);
  if ((await virshTry("net-info", cluster)).code === 0) left.push(`network ${cluster}`);
  if ((await virshTry("pool-info", `${cluster}-pool`)).code === 0) left.push(`pool ${cluster}-pool`);
  if (existsSync(`/var/lib/libvirt/images/${cluster}`)) left.push(`folder /var/lib/libvirt/images/${cluster}`);
  return left;
}

/** Last resort after a failed destroy: remove the cluster's libvirt objects by name. */
async function sweep(cluster: string): Promise<void> {
  const v = (...a: string[]) => run(["virsh", "-q", "-c", "qemu:///system", ...a]);
  for (const d of (await virsh("list", "--all", "--name")).split("\n").map((l) => l.trim())) {
    if (!d.startsWith(`${cluster}-`)) continue;
    await v("destroy", d);
    await v("undefine", d, "--nvram");
    await run(["rm", "-f", "--", `/var/log/libvirt/qemu/${d}.log`, `/var/log/libvirt/qemu/${d}-console.log`]);
  }
  await v("pool-destroy", `${cluster}-pool`);
  await v("pool-undefine", `${cluster}-pool`);
  await run(["rm", "-rf", "--one-file-system", "--", `/var/lib/libvirt/images/${cluster}`]);
  await v("net-destroy", cluster);
  await v("net-undefine", cluster);
}

// ---- the runs ----

/** The critical path of an up as costs of ours, largest first; the guest's part of readiness left out. */
function ownCosts(path: PathSegment[], floorBootMs: number | undefined): OwnCost[] {
  const sums = new Map<string, number>();
  const add = (what: string, ms: number) => sums.set(what, (sums.get(what) ?? 0) + ms);
  for (const s of path) {
    if (s.kind === "head" || s.kind === "tail") add(s.label, s.ms);
    else if (s.kind === "gap") add("engine gaps between steps on the path (registration, provider check/diff)", s.ms);
    else if (s.type === "Readiness") {
      if (floorBootMs !== undefined) add("readiness beyond the floor's boot of the same N (poll interval, ssh retries)", Math.max(0, s.ms - floorBootMs));
    } else add(`${s.type} step on the path`, s.ms);
  }
  return [...sums.entries()].map(([what, ms]) => ({ what, ms })).sort((a, b) => b.ms - a.ms);
}

function writeStackFile(project: string, n: number, mirrorUrl: string, keyFile: string, caFile: string, netns: string, domainType: string): void {
  const net = `10.231.${subnetOf(n)}`;
  const config = {
    "vm-cluster:cluster": clusterOf(n),
    "vm-cluster:host": { type: "local", netns },
    "vm-cluster:lan": { interface: "lan0", subnet: "10.231.200.0/24" },
    "vm-cluster:network": { cidr: `${net}.0/24`, gateway: `${net}.1`, dhcpStart: `${net}.2`, dhcpEnd: `${net}.254` },
    "vm-cluster:vms": VM_NAMES.slice(0, n).map((name, i) => ({ name, ip: `${net}.${10 + i}` })),
    "vm-cluster:defaults": { disk: DISK, memoryMiB: MEMORY_MIB, vcpus: 1 },
    "vm-cluster:sshPublicKey": { file: `${keyFile}.pub` },
    "vm-cluster:caCertificate": { file: caFile },
    "vm-cluster:image": { url: `${mirrorUrl}test-image.qcow2`, checksumsUrl: `${mirrorUrl}SHA512SUMS` },
    "vm-cluster:domainType": domainType,
    "vm-cluster:readinessTimeoutSeconds": 900,
  };
  writeFileSync(path.join(project, `Pulumi.${stackOf(n)}.yaml`), toYaml({ config }));
}

/** A loopback port in the namespace that nothing answers on (curl: connection refused). */
async function freePort(netns: string): Promise<number> {
  for (let port = 18_097; port > 18_080; port--) {
    const r = await run(["ip", "netns", "exec", netns, "curl", "-s", "-o", "/dev/null", "--max-time", "2", `http://127.0.0.1:${port}/`]);
    if (r.code === 7) return port;
  }
  throw new Error(`no free port for the image mirror in ${netns} (18081-18097 all answer)`);
}

async function checkSubnetsFree(netns: string, subnets: number[]): Promise<void> {
  const addrs = await ok(["ip", "-n", netns, "-4", "-o", "addr", "show"]);
  for (const s of subnets) {
    if (addrs.includes(` 10.231.${s}.`)) throw new Error(`10.231.${s}.0/24 is in use in namespace ${netns}: another network has it`);
  }
}

export async function main(): Promise<number> {
  const startedAt = new Date().toISOString();
  const cleanups: { what: string; fn: () => Promise<void> | void }[] = [];
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      log(`${sig}: stopping the current step, then cleaning up (wait for it)`);
      interrupt();
      currentChild?.kill("SIGINT");
    } else log(`${sig} again: still cleaning up; kill -9 would leave VMs behind`);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const machine = await machineInfo();
  const settings = readSettings(machine.kvm.usable);
  const largest = settings.sizes[settings.sizes.length - 1]!;
  const results: Partial<Results> & { ups: UpResult[]; floors: FloorRun[]; notes: string[] } = {
    schema: 3,
    startedAt,
    complete: false,
    machine,
    ups: [],
    floors: [],
    notes: [],
  };
  // BENCH_RESULTS_DIR: the tests run the quick benchmark without touching the committed results.
  let stoppedOwnDaemon = false;
  const resultsDir = process.env.BENCH_RESULTS_DIR ?? path.join(__dirname, "results");
  let failure: unknown;
  try {
    const daemon = await startLibvirtd("vmc-bench");
    stoppedOwnDaemon = daemon.startedPids.length > 0;
    cleanups.push({ what: "libvirtd (only if this run started it)", fn: () => stopLibvirtd(daemon) });
    const netns = daemon.netns;
    results.settings = { ...settings, memoryMiB: MEMORY_MIB, vcpus: 1, disk: DISK, caCertificate: true, productReadinessPollMs: PRODUCT_POLL_MS, netns };
    log(
      `libvirtd in network namespace ${netns}${daemon.startedPids.length ? " (started by this run)" : " (reused)"}; sizes ${settings.sizes.join(",")}, ${settings.repeats} repeats, ${settings.pairs} floor/up pair(s) of ${largest}, domain type ${settings.domainType}`,
    );
    await checkSubnetsFree(netns, [FLOOR_SUBNET, ...settings.sizes.map(subnetOf)]);
    for (const n of settings.sizes) {
      const left = await leftovers(clusterOf(n), netns);
      if (left.length) throw new Error(`${clusterOf(n)} exists already (a killed earlier run?): ${left.join(", ")}`);
    }

    const sandbox = engineSandbox("bench");
    cleanups.push({ what: "sandbox folder", fn: () => sandbox.cleanup() });
    const keyFile = path.join(sandbox.dir, "id_ed25519");
    await ok(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bench@vm-cluster", "-f", keyFile]);
    // The same CA certificate for the floor's VMs and ours, as a user's domain CA.
    const caPem = throwawayCa("vm-cluster bench CA");
    const caFile = path.join(sandbox.dir, "ca.crt");
    writeFileSync(caFile, caPem);

    log("test image (built once, then cached)");
    const image = (await ok(["bash", path.join(projectRoot, "test/image/build-image.sh")], { timeoutMs: 900_000 })).trim().split("\n").pop()!;
    const sha512 = (await ok(["sha512sum", image])).split(/\s+/)[0]!;
    const cachedOnHost = `${DEFAULT_IMAGE_CACHE}/${sha512}.qcow2`;
    results.image = { bytes: await fileBytes(image), virtualBytes: (await qemuImgInfo(image)).virtualSize, sha512, cachedOnHost };
    const mirrorDir = path.join(sandbox.dir, "mirror");
    mkdirSync(mirrorDir);
    await ok(["cp", "--reflink=auto", image, path.join(mirrorDir, "test-image.qcow2")]);
    const mirror = await startMirror(mirrorDir, netns, await freePort(netns));
    cleanups.push({ what: "image mirror", fn: () => mirror.stop() });
    const sink = await EventSink.start();
    cleanups.push({ what: "event sink", fn: () => sink.stop() });

    // 0. set-up, before anything else loads the machine; a failure is recorded, the rest still runs
    if (settings.setup) {
      try {
        results.setup = await runSetup(projectRoot, path.join(sandbox.dir, "setup"), log, (child) => (currentChild = child));
        log(`set-up: cold ${secs(results.setup.cold.wallMs)}, warm ${secs(results.setup.warm.wallMs)}`);
      } catch (err) {
        // Ctrl-C stops the whole run, as in every other phase.
        checkInterrupted();
        results.setup = { error: String((err as Error)?.message ?? err) };
        results.notes.push(`set-up could not be measured: ${results.setup.error}`);
      }
    }

    // 1. the empty program: the engine's and the language host's own cost
    const empty = path.join(sandbox.dir, "empty");
    mkdirSync(empty);
    writeFileSync(
      path.join(empty, "Pulumi.yaml"),
      "name: bench-empty\nruntime:\n  name: nodejs\n  options:\n    typescript: true\ndescription: no resources\n",
    );
    writeFileSync(path.join(empty, "package.json"), JSON.stringify({ name: "bench-empty", private: true, main: "index.ts" }));
    writeFileSync(path.join(empty, "index.ts"), "// No resources: what is left is the engine's and the program's start.\nexport {};\n");
    writeFileSync(path.join(empty, "tsconfig.json"), readFileSync(path.join(projectRoot, "tsconfig.json")));
    symlinkSync(path.join(projectRoot, "node_modules"), path.join(empty, "node_modules"));
    must(await pulumi(sink, sandbox, empty, "empty-stack-init", ["stack", "init", "empty"]));
    const firstUp = strip(must(await pulumi(sink, sandbox, empty, "empty-up-first", ["--stack", "empty", "up", "--yes"])));
    const repeated = async (cwd: string, stack: string, label: string): Promise<RepeatedRuns> => {
      const runs: Record<"up" | "preview" | "refresh", CommandRun[]> = { up: [], preview: [], refresh: [] };
      for (let i = 0; i < settings.repeats; i++) {
        for (const [what, args] of [
          ["up", ["up", "--yes"]],
          ["preview", ["preview"]],
          ["refresh", ["refresh", "--yes"]],
        ] as const) {
          runs[what].push(strip(must(await pulumi(sink, sandbox, cwd, `${label}-${what}-${i + 1}`, ["--stack", stack, ...args]))));
        }
      }
      const medianOf = (list: CommandRun[]) => median(list.map((r) => r.wallMs));
      return {
        upRuns: runs.up,
        previewRuns: runs.preview,
        refreshRuns: runs.refresh,
        upMedianMs: medianOf(runs.up),
        previewMedianMs: medianOf(runs.preview),
        refreshMedianMs: medianOf(runs.refresh),
      };
    };
    results.empty = { firstUp, ...(await repeated(empty, "empty", "empty")) };
    log(
      `empty program: up ${secs(results.empty.upMedianMs)}, preview ${secs(results.empty.previewMedianMs)}, refresh ${secs(results.empty.refreshMedianMs)} (medians)`,
    );

    // 2-5. the clusters, each after its floor
    const project = path.join(sandbox.dir, "project");
    copyProject(project);
    for (const n of settings.sizes) {
      const stack = stackOf(n);
      const cluster = clusterOf(n);
      const pairs = n === largest ? settings.pairs : 1;
      let up = false;
      for (let pair = 1; pair <= pairs; pair++) {
        const ofPair = pairs > 1 ? ` (pair ${pair} of ${pairs})` : "";
        log(`floor: ${n} VM(s) with plain virsh, all at once${ofPair}`);
        const floorOthersBefore = await runningDomains();
        const floorRun = await runFloor(
          {
            netns,
            image,
            workDir: sandbox.dir,
            userPublicKey: readFileSync(`${keyFile}.pub`, "utf8").trim(),
            userKeyFile: keyFile,
            subnet: FLOOR_SUBNET,
            vms: VM_NAMES.slice(0, n),
            memoryMiB: MEMORY_MIB,
            diskBytes: DISK_BYTES,
            caPem,
            pollMs: settings.floorPollMs,
            timeoutMs: 900_000,
            domainType: settings.domainType,
          },
          log,
        );
        const floor: FloorRun = { ...floorRun, otherVms: [floorOthersBefore, await runningDomains()], pair };
        results.floors.push(floor);
        log(`floor, ${n} VM(s): ${secs(floor.totalMs)} from nothing (setup ${secs(floor.setupMs)}, boot ${secs(floor.bootMs)})`);

        if (pair === 1) {
          writeStackFile(project, n, mirror.url, keyFile, caFile, netns, settings.domainType);
          must(await pulumi(sink, sandbox, project, `${stack}-init`, ["stack", "init", stack]));
          cleanups.push({
            what: `stack ${stack}`,
            fn: async () => {
              if (!up) return;
              const d = await pulumi(sink, sandbox, project, `${stack}-cleanup-destroy`, ["--stack", stack, "destroy", "--yes"]);
              if (d.code !== 0) {
                log(`destroy of ${stack} failed; removing ${cluster}'s libvirt objects by name`);
                await sweep(cluster);
              }
              const left = await leftovers(cluster, netns);
              if (left.length) throw new Error(`${cluster} left behind: ${left.join(", ")}`);
            },
          });
        }
        if (results.coldPreview === undefined) {
          // The first program run of a fresh project copy compiles the program (.tools/program/);
          // later runs reuse it. Pay that once here, untimed in the ups, so all sizes compare.
          log(`${stack}: first preview of the fresh project copy (the program compiled first)`);
          results.coldPreview = strip(must(await pulumi(sink, sandbox, project, `${stack}-preview-cold-cache`, ["--stack", stack, "preview"])));
        }
        const imageCacheWarm = existsSync(cachedOnHost);
        const loadAverage = os.loadavg().map((x) => Number(x.toFixed(2)));
        log(`${stack}: pulumi up, ${n} VM(s)${ofPair} (image cache ${imageCacheWarm ? "warm" : "cold"}, load ${loadAverage.join(" ")})`);
        up = true;
        const upRun = must(await pulumi(sink, sandbox, project, `${stack}-up${pairs > 1 ? `-${pair}` : ""}`, ["--stack", stack, "up", "--yes"]));
        log(`${stack}: up took ${secs(upRun.wallMs)}`);
        const disk = await clusterDisk(cluster, VM_NAMES.slice(0, n));
        const main = upRun.timeline.runs[upRun.timeline.runs.length - 1];
        const result: UpResult = {
          n,
          pair,
          stack,
          cluster,
          imageCacheWarm,
          loadAverage,
          up: strip(upRun),
          updateIdleMs: main ? idleMs(workSteps(upRun.timeline), main.start, main.summary ?? main.end) : NaN,
          criticalPath: criticalPath(upRun.timeline),
          byType: byType(upRun.timeline),
          disk,
        };
        results.ups.push(result);

        if (n === largest && pair === pairs) {
          log(`${stack}: no-op up, preview and refresh, ${settings.repeats} each`);
          results.noop = { n, ...(await repeated(project, stack, `${stack}-noop`)) };
          for (const r of [...results.noop.upRuns, ...results.noop.refreshRuns]) {
            const changes = r.timeline.runs[r.timeline.runs.length - 1]?.changes ?? {};
            if (Object.keys(changes).some((k) => k !== "same")) results.notes.push(`${r.label} was not a no-op: ${JSON.stringify(changes)}`);
          }
          log(
            `${stack}: no-op up ${secs(results.noop.upMedianMs)}, preview ${secs(results.noop.previewMedianMs)}, refresh ${secs(results.noop.refreshMedianMs)} (medians)`,
          );
        }

        log(`${stack}: destroy`);
        const destroyRun = await pulumi(sink, sandbox, project, `${stack}-destroy${pairs > 1 ? `-${pair}` : ""}`, ["--stack", stack, "destroy", "--yes"]);
        must(destroyRun);
        up = false;
        result.destroy = strip(destroyRun);
        result.leftovers = await leftovers(cluster, netns);
        if (result.leftovers.length) results.notes.push(`destroy of ${stack} left: ${result.leftovers.join(", ")}`);
        log(`${stack}: destroy took ${secs(destroyRun.wallMs)}`);
      }
    }
    results.complete = true;
  } catch (err) {
    failure = err;
    results.error = String((err as Error)?.stack ?? err);
  } finally {
    for (const c of cleanups.reverse()) {
      try {
        await c.fn();
      } catch (err) {
        log(`cleanup of ${c.what} failed: ${(err as Error).message}`);
        results.notes.push(`cleanup of ${c.what} failed: ${(err as Error).message}`);
        failure ??= err;
      }
    }
  }

  machine.loadAverageEnd = os.loadavg().map((x) => Number(x.toFixed(2)));
  // Asked after the cleanups: a daemon this run started is stopped by now, and with it its VMs.
  machine.otherRunningDomainsEnd = await runningDomains().catch(() => (stoppedOwnDaemon ? 0 : undefined));
  const full = finish(results);
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(path.join(resultsDir, "latest.json"), JSON.stringify(full, null, 2) + "\n");
  writeFileSync(path.join(resultsDir, "latest.md"), renderMarkdown(full));
  const pictured = shownUps(full).at(-1);
  if (pictured) writeFileSync(path.join(resultsDir, "latest-timeline.svg"), timelinePicture(pictured, floorOf(full, pictured)));
  log(
    `wrote ${path.relative(process.cwd(), path.join(resultsDir, "latest.md"))}, latest.json and latest-timeline.svg${full.complete ? "" : " (incomplete: see error)"}`,
  );
  if (failure) {
    log(`failed: ${(failure as Error)?.message ?? failure}`);
    return 1;
  }
  return 0;
}

/** The largest up's steps, its critical path marked, and when each of the same N's floor VMs was ready. */
function timelinePicture(u: UpResult, floor: FloorRun | undefined): string {
  return renderTimelineSvg({
    title: `pulumi up --yes, ${u.n} VM${u.n > 1 ? "s" : ""}, nothing → all ready: ${secs(u.up.wallMs)}${floor ? ` (floor ${secs(floor.totalMs)})` : ""}`,
    timeline: u.up.timeline,
    criticalPath: u.criticalPath,
    references: (floor?.vms ?? []).map((v) => ({ label: `floor: ${v.vm} ready`, ms: v.readyAt })),
  });
}

/** Ratios, own costs and notes from the raw measurements. */
function finish(r: Partial<Results> & { ups: UpResult[]; floors: FloorRun[]; notes: string[] }): Results {
  const upOverFloorPairs: Record<string, number[]> = {};
  for (const u of r.ups) {
    const floor = floorOf(r, u);
    if (floor) (upOverFloorPairs[String(u.n)] ??= []).push(u.up.wallMs / floor.totalMs);
  }
  const upOverFloor = Object.fromEntries(Object.entries(upOverFloorPairs).map(([n, list]) => [n, median(list)]));
  const own: Record<string, OwnCost[]> = {};
  for (const u of shownUps({ ups: r.ups, floors: r.floors, ratios: { upOverFloor, upOverFloorPairs } })) {
    own[String(u.n)] = ownCosts(u.criticalPath, floorOf(r, u)?.bootMs);
  }
  const ratios: Results["ratios"] = { upOverFloor, upOverFloorPairs };
  if (r.noop && r.empty) {
    ratios.noopUpOverEmptyUp = r.noop.upMedianMs / r.empty.upMedianMs;
    ratios.previewOverEmptyPreview = r.noop.previewMedianMs / r.empty.previewMedianMs;
    ratios.refreshOverEmptyRefresh = r.noop.refreshMedianMs / r.empty.refreshMedianMs;
  }
  const notes = [
    ...r.notes,
    "Times are wall-clock on one monotonic clock; engine events are stamped when they arrive over the CLI's --event-log gRPC stream (their own timestamps are whole seconds).",
    "`pulumi up --yes` runs the program twice: a preview pass, then the update; both are in the up's time, as a user or CI sees it.",
    `The floor polls each VM every ${r.settings?.floorPollMs ?? "?"} ms; the product's readiness polls every ${PRODUCT_POLL_MS} ms (lease, then ssh).`,
    "Every VM, the floor's and ours, trusts the same CA certificate (caCertificate), installed by cloud-init at first boot.",
  ];
  if (r.coldPreview) {
    notes.push(
      "Before the first up, one `pulumi preview` of the fresh project copy compiles the program (into the copy's .tools/program/), so every up and no-op run finds it compiled, as on a user's second run.",
    );
  }
  for (const u of r.ups) {
    const slow = (u.destroy?.timeline.steps ?? []).filter((st) => st.type === "Domain" && st.end !== undefined && st.end - st.start >= 10_000);
    if (slow.length) {
      notes.push(
        `Destroy of ${u.stack}: ${slow.length} Domain delete step(s) took at least 10 s, the bound of the graceful stop (ACPI shutdown, then destroy): the guest did not power off on \`virsh shutdown\` within it.`,
      );
    }
  }
  const busy = [
    ...r.floors.filter((f) => Math.max(...f.otherVms) > 0).map((f) => `floor of ${f.n} ${f.otherVms.join("→")}`),
    ...[
      r.coldPreview,
      ...(r.empty ? [r.empty.firstUp, ...r.empty.upRuns, ...r.empty.previewRuns, ...r.empty.refreshRuns] : []),
      ...r.ups.flatMap((u) => [u.up, u.destroy]),
      ...(r.noop ? [...r.noop.upRuns, ...r.noop.previewRuns, ...r.noop.refreshRuns] : []),
    ]
      .filter((c): c is CommandRun => c !== undefined && Math.max(...c.otherVms) > 0)
      .map((c) => `${c.label} ${c.otherVms.join("→")}`),
  ];
  if (busy.length) {
    notes.push(
      `**Not a quiet machine**: other people's VMs ran during ${busy.join(", ")} (count at start→end). They compete for the ${r.machine?.cores ?? "?"} cores: those figures are inflated; rerun when the machine is quiet.`,
    );
  }
  return {
    schema: 3,
    startedAt: r.startedAt!,
    finishedAt: new Date().toISOString(),
    complete: r.complete ?? false,
    ...(r.error ? { error: r.error } : {}),
    machine: r.machine!,
    settings: r.settings!,
    image: r.image!,
    ...(r.setup ? { setup: r.setup } : {}),
    floors: r.floors,
    coldPreview: r.coldPreview,
    empty: r.empty,
    ups: r.ups,
    noop: r.noop,
    ratios,
    ownCosts: own,
    notes,
  };
}
