// The floor: N VMs from the same test image and the same NoCloud seed as ours (host keys, CA
// certificate), made with plain virsh and no Pulumi, all at once, in the daemon's network namespace
// on a throw-away NAT network and dir pool of its own, timed from nothing to every VM SSH-ready
// (ssh answers with the key and `cloud-init status --wait` returns). It polls each VM tightly
// (BENCH_FLOOR_POLL_MS, 250 ms) so that it shows what the guests need, not what a poller adds.
// Everything it makes is removed again, even on failure.
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { metaData, networkConfig, seedIso, userData } from "../cloudinit";
import { generateHostKey } from "../secrets/host-key";
import { guestSshArgv } from "../guest/guest-ssh";
import { leasedIp } from "../guest/readiness";
import { buildDomainXml, buildNetworkXml, buildPoolXml, buildVolumeXml } from "../libvirt/xml";
import { checkInterrupted, isInterrupted, now, ok, run, sleep, virsh, virshTry } from "./sh";

export interface FloorOptions {
  netns: string;
  /** The test image (qcow2) on this machine. */
  image: string;
  /** A private folder of the benchmark's for files. */
  workDir: string;
  /** The user's public key line, authorized for root. */
  userPublicKey: string;
  /** Its private key file, for ssh. */
  userKeyFile: string;
  /** Third octet of 10.231.X.0/24. */
  subnet: number;
  /** The VMs' names: one VM each, all started at once. */
  vms: string[];
  memoryMiB: number;
  diskBytes: number;
  /** The CA certificate (PEM) every VM trusts, as the cluster's caCertificate. */
  caPem?: string;
  pollMs: number;
  timeoutMs: number;
  domainType: "kvm" | "qemu";
}

/** One VM of the floor, times in ms from the floor's start. */
export interface FloorVm {
  vm: string;
  /** `virsh start` returned. */
  startedAt: number;
  leasedAt: number;
  loggedInAt: number;
  /** `cloud-init status --wait` returned: SSH-ready. */
  readyAt: number;
  /** ssh attempts until one logged in. */
  sshAttempts: number;
}

export interface FloorResult {
  /** How many VMs, all at once. */
  n: number;
  /** ms from the start of each shared phase's first command to its end. */
  phases: {
    network: number;
    pool: number;
    baseCopy: number;
    /** Every VM's overlay and seed (ISO + upload). */
    volumes: number;
    /** Every VM defined and started. */
    defineStart: number;
  };
  vms: FloorVm[];
  /** Nothing → every VM SSH-ready. */
  totalMs: number;
  /** The last `virsh start` returned → every VM SSH-ready: the guests' boot. */
  bootMs: number;
  /** Everything before the last `virsh start` returned: pool, network, copy, overlays, seeds, define, start. */
  setupMs: number;
  disk: { overlayBytes: number; seedBytes: number; overlayActualBytes: number; baseBytes: number };
}

export const FLOOR_NAME = "vmcbfloor";

/** Sizes of one file: allocated bytes (du -B1) and qemu-img's actual size where it is an image. */
export async function fileBytes(file: string): Promise<number> {
  return Number((await ok(["du", "-B1", "--", file])).split(/\s+/)[0]);
}
export async function qemuImgInfo(file: string): Promise<{ actualSize: number; virtualSize: number }> {
  // -U: the running VM holds the image's lock; reading its header without the lock is fine.
  const info = JSON.parse(await ok(["qemu-img", "info", "-U", "--output=json", file]));
  return { actualSize: info["actual-size"], virtualSize: info["virtual-size"] };
}

export async function runFloor(o: FloorOptions, log: (msg: string) => void): Promise<FloorResult> {
  const name = FLOOR_NAME;
  const net = `10.231.${o.subnet}`;
  const poolName = `${name}-pool`;
  const poolDir = `/var/lib/libvirt/images/${name}`;
  const guests = o.vms.map((vm, i) => ({
    vm,
    ip: `${net}.${10 + i}`,
    mac: `52:54:00:b3:0c:${(i + 1).toString(16).padStart(2, "0")}`,
    domain: `${name}-${vm}`,
    consoleLog: `/var/log/libvirt/qemu/${name}-${vm}-console.log`,
  }));
  const files = path.join(o.workDir, "floor");
  mkdirSync(files, { recursive: true });
  const xmlFile = (file: string, xml: string) => {
    const p = path.join(files, file);
    writeFileSync(p, xml);
    return p;
  };

  for (const [kind, what] of [["net-info", name] as const, ["pool-info", poolName] as const, ...guests.map((g) => ["dominfo", g.domain] as const)]) {
    if ((await virshTry(kind, what)).code === 0) throw new Error(`the floor's ${what} exists already (a killed earlier run?): remove it with virsh first`);
  }
  if ((await run(["test", "-e", poolDir])).code === 0) throw new Error(`${poolDir} exists already (a killed earlier run?): remove it first`);

  const made = { network: false, pool: false, domains: new Set<string>() };
  let cleaned = false;
  const cleanup = async () => {
    cleaned = true;
    const errors: string[] = [];
    const step = async (what: string, argv: string[], okCodes = [0]) => {
      const r = await run(argv);
      if (!okCodes.includes(r.code)) errors.push(`${what}: ${(r.stderr || r.stdout).trim()}`);
    };
    const v = (...args: string[]) => ["virsh", "-q", "-c", "qemu:///system", ...args];
    for (const domain of made.domains) {
      await step(`destroy ${domain}`, v("destroy", domain), [0, 1]);
      await step(`undefine ${domain}`, v("undefine", domain, "--nvram"));
    }
    if (made.pool) {
      await step("pool-destroy", v("pool-destroy", poolName), [0, 1]);
      await step("pool-undefine", v("pool-undefine", poolName));
      await step("rm pool dir", ["rm", "-rf", "--one-file-system", "--", poolDir]);
    }
    if (made.network) {
      await step("net-destroy", v("net-destroy", name), [0, 1]);
      await step("net-undefine", v("net-undefine", name));
    }
    await step("rm logs", ["rm", "-f", "--", ...guests.flatMap((g) => [g.consoleLog, `/var/log/libvirt/qemu/${g.domain}.log`])]);
    if (errors.length) throw new Error(`the floor's cleanup left something behind:\n${errors.join("\n")}`);
  };

  const provisionerKey = generateHostKey("provisioner@floor").publicKey;
  const ca = o.caPem === undefined ? undefined : { name, pem: o.caPem };
  const mark: Record<string, number> = {};
  const t0 = now();
  try {
    mark.network = now();
    await virsh(
      "net-define",
      xmlFile(
        "network.xml",
        buildNetworkXml({
          name,
          bridge: { name: `vmc-${name}` },
          ip: {
            address: `${net}.1`,
            netmask: "255.255.255.0",
            dhcp: { range: { start: `${net}.2`, end: `${net}.254` }, hosts: guests.map((g) => ({ mac: g.mac, name: g.vm, ip: g.ip })) },
          },
        }),
      ),
    );
    made.network = true;
    await virsh("net-start", name);
    mark.pool = now();
    await virsh(
      "pool-define",
      xmlFile("pool.xml", buildPoolXml({ name: poolName, target: { path: poolDir, permissions: { mode: "0755", owner: 0, group: 0 } } })),
    );
    made.pool = true;
    await virsh("pool-build", poolName);
    await virsh("pool-start", poolName);
    mark.baseCopy = now();
    const base = `${poolDir}/${name}-base.qcow2`;
    await ok(["cp", "--reflink=auto", o.image, base]);
    await virsh("pool-refresh", poolName);

    // Each VM's overlay and seed, all at once: what a script that backgrounds its per-VM steps does.
    mark.volumes = now();
    const knownHosts: Record<string, string> = {};
    await Promise.all(
      guests.map(async (g) => {
        const hostKey = generateHostKey(`root@${g.vm}`);
        knownHosts[g.vm] = xmlFile(`known_hosts-${g.vm}`, `${g.ip} ${hostKey.publicKey}\n`);
        await virsh(
          "vol-create",
          poolName,
          xmlFile(
            `overlay-${g.vm}.xml`,
            buildVolumeXml({
              name: `${g.domain}.qcow2`,
              capacity: o.diskBytes,
              target: { format: { type: "qcow2" } },
              backingStore: { path: base, format: { type: "qcow2" } },
            }),
          ),
        );
        const seedDir = path.join(files, g.vm);
        mkdirSync(seedDir, { recursive: true });
        const iso = await seedIso(
          {
            userData: userData({
              hostname: g.vm,
              fqdn: `${g.vm}.bench.internal`,
              rootAuthorizedKeys: [o.userPublicKey, provisionerKey],
              hostKeys: { ed25519: hostKey },
              ...(ca !== undefined && { caCertificate: ca }),
            }),
            metaData: metaData({ instanceId: g.domain, hostname: g.vm }),
            networkConfig: networkConfig({ macAddress: g.mac }),
          },
          seedDir,
        );
        const seedVol = `${g.domain}-cidata.iso`;
        const isoBytes = (await ok(["stat", "-c", "%s", iso])).trim();
        await virsh("vol-create-as", poolName, seedVol, isoBytes, "--format", "iso");
        await virsh("vol-upload", "--pool", poolName, seedVol, iso);
      }),
    );

    mark.defineStart = now();
    const startedAt: Record<string, number> = {};
    for (const g of guests) {
      await virsh(
        "define",
        xmlFile(
          `domain-${g.vm}.xml`,
          buildDomainXml({
            type: o.domainType,
            name: g.domain,
            memory: o.memoryMiB,
            vcpu: 1,
            devices: {
              disks: [
                { driver: { type: "qcow2" }, source: { file: `${poolDir}/${g.domain}.qcow2` }, target: { dev: "vda" }, readonly: false },
                { driver: { type: "raw" }, source: { file: `${poolDir}/${g.domain}-cidata.iso` }, target: { dev: "vdb" }, readonly: true },
              ],
              interfaces: [{ mac: { address: g.mac }, source: { network: name } }],
              serials: [{ log: { file: g.consoleLog } }],
            },
          }),
        ),
      );
      made.domains.add(g.domain);
      await virsh("start", g.domain);
      startedAt[g.vm] = now();
    }
    mark.started = now();
    log(`floor: ${guests.length} VM(s) started after ${((mark.started - t0) / 1000).toFixed(1)} s; waiting for the leases, SSH and cloud-init`);

    const deadline = mark.started + o.timeoutMs;
    const vms = await Promise.all(
      guests.map(async (g): Promise<FloorVm> => {
        const timedOut = async (what: string) =>
          new Error(`floor VM ${g.vm} was not ready within ${o.timeoutMs / 1000} s: ${what}\n${(await run(["tail", "-n", "25", g.consoleLog])).stdout}`);
        for (;;) {
          checkInterrupted();
          const leases = await virsh("net-dhcp-leases", name, "--mac", g.mac);
          if (leasedIp(leases, g.mac) !== undefined) break;
          if (now() > deadline) throw await timedOut("no DHCP lease");
          await sleep(o.pollMs);
        }
        const leasedAt = now();
        // One ssh per attempt, as readiness does: it prints a line once logged in, then waits for cloud-init.
        let attempts = 0;
        let loggedInAt: number | undefined;
        for (;;) {
          checkInterrupted();
          attempts++;
          const r = await sshOnce(o, g.ip, knownHosts[g.vm]!);
          loggedInAt ??= r.loggedInAt;
          if (r.code === 0) break;
          if (r.code !== 255) throw new Error(`cloud-init in floor VM ${g.vm} finished with errors (exit ${r.code}):\n${r.out}`);
          if (now() > deadline) throw await timedOut(`ssh did not log in (last: ${r.out.trim() || "no answer"})`);
          await sleep(o.pollMs);
        }
        const readyAt = now();
        return {
          vm: g.vm,
          startedAt: startedAt[g.vm]! - t0,
          leasedAt: leasedAt - t0,
          loggedInAt: (loggedInAt ?? readyAt) - t0,
          readyAt: readyAt - t0,
          sshAttempts: attempts,
        };
      }),
    );
    const ready = Math.max(...vms.map((v) => v.readyAt));

    const first = guests[0]!;
    const overlayFile = `${poolDir}/${first.domain}.qcow2`;
    const disk = {
      overlayBytes: await fileBytes(overlayFile),
      seedBytes: await fileBytes(`${poolDir}/${first.domain}-cidata.iso`),
      overlayActualBytes: (await qemuImgInfo(overlayFile)).actualSize,
      baseBytes: await fileBytes(base),
    };
    return {
      n: guests.length,
      phases: {
        network: mark.pool - mark.network,
        pool: mark.baseCopy - mark.pool,
        baseCopy: mark.volumes - mark.baseCopy,
        volumes: mark.defineStart - mark.volumes,
        defineStart: mark.started - mark.defineStart,
      },
      vms,
      totalMs: ready,
      bootMs: ready - (mark.started - t0),
      setupMs: mark.started - t0,
      disk,
    };
  } catch (err) {
    await cleanup().catch((e: Error) => log(`floor: ${e.message}`));
    throw err;
  } finally {
    if (!cleaned) await cleanup();
  }
}

/** One ssh login that waits for cloud-init; `loggedInAt` is when the remote shell first spoke. */
function sshOnce(o: FloorOptions, ip: string, knownHosts: string): Promise<{ code: number; out: string; loggedInAt?: number }> {
  return new Promise((resolve) => {
    // The guest login our readiness uses, as a hand-written script would run it.
    const login = guestSshArgv(ip, o.userKeyFile, knownHosts, ["sh", "-c", "echo logged-in; cloud-init status --wait"]);
    const child = spawn("ip", ["netns", "exec", o.netns, ...login], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let loggedInAt: number | undefined;
    child.stdout.on("data", (b: Buffer) => {
      out += b;
      if (loggedInAt === undefined && out.includes("logged-in")) loggedInAt = now();
    });
    child.stderr.on("data", (b: Buffer) => (out += b));
    const poll = setInterval(() => {
      if (isInterrupted()) child.kill("SIGTERM");
    }, 200);
    child.on("close", (code) => {
      clearInterval(poll);
      resolve({ code: code ?? -1, out, loggedInAt });
    });
  });
}
