// The floor: one VM from the same test image and the same kind of NoCloud seed, made with plain
// virsh and no Pulumi, in the daemon's network namespace on a throw-away NAT network and dir pool
// of its own, timed from nothing to SSH-ready (ssh answers with the key and `cloud-init status
// --wait` returns). It polls tightly (BENCH_FLOOR_POLL_MS, 250 ms) so that it shows what the
// guest needs, not what a poller adds. Everything it makes is removed again, even on failure.
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
  memoryMiB: number;
  diskBytes: number;
  pollMs: number;
  timeoutMs: number;
  domainType: "kvm" | "qemu";
}

export interface FloorResult {
  /** ms from the start of each phase's first command to its end. */
  phases: {
    network: number;
    pool: number;
    baseCopy: number;
    overlay: number;
    seed: number;
    defineStart: number;
    /** `virsh start` returned → the DHCP lease shows. */
    lease: number;
    /** lease → ssh with the key logs in. */
    ssh: number;
    /** ssh logged in → `cloud-init status --wait` returns. */
    cloudInit: number;
  };
  /** Nothing → SSH-ready. */
  totalMs: number;
  /** `virsh start` returned → SSH-ready: the guest's boot. */
  bootMs: number;
  /** Everything before `virsh start` returned: pool, network, copy, overlay, seed, define, start. */
  setupMs: number;
  disk: { overlayBytes: number; seedBytes: number; overlayActualBytes: number; baseBytes: number };
  /** ssh attempts until one logged in. */
  sshAttempts: number;
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
  const ip = `${net}.10`;
  const mac = "52:54:00:b3:0c:01";
  const domain = `${name}-vm`;
  const poolName = `${name}-pool`;
  const poolDir = `/var/lib/libvirt/images/${name}`;
  const consoleLog = `/var/log/libvirt/qemu/${domain}-console.log`;
  const files = path.join(o.workDir, "floor");
  mkdirSync(files, { recursive: true });
  const xmlFile = (file: string, xml: string) => {
    const p = path.join(files, file);
    writeFileSync(p, xml);
    return p;
  };

  for (const [kind, what] of [
    ["net-info", name],
    ["pool-info", poolName],
    ["dominfo", domain],
  ] as const) {
    if ((await virshTry(kind, what)).code === 0) throw new Error(`the floor's ${what} exists already (a killed earlier run?): remove it with virsh first`);
  }
  if ((await run(["test", "-e", poolDir])).code === 0) throw new Error(`${poolDir} exists already (a killed earlier run?): remove it first`);

  const made = { network: false, pool: false, domain: false };
  let cleaned = false;
  const cleanup = async () => {
    cleaned = true;
    const errors: string[] = [];
    const step = async (what: string, argv: string[], okCodes = [0]) => {
      const r = await run(argv);
      if (!okCodes.includes(r.code)) errors.push(`${what}: ${(r.stderr || r.stdout).trim()}`);
    };
    const v = (...args: string[]) => ["virsh", "-q", "-c", "qemu:///system", ...args];
    if (made.domain) {
      await step("destroy", v("destroy", domain), [0, 1]);
      await step("undefine", v("undefine", domain, "--nvram"));
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
    await step("rm logs", ["rm", "-f", "--", consoleLog, `/var/log/libvirt/qemu/${domain}.log`]);
    if (errors.length) throw new Error(`the floor's cleanup left something behind:\n${errors.join("\n")}`);
  };

  const userKeys = [o.userPublicKey, generateHostKey("provisioner@floor").publicKey];
  const hostKey = generateHostKey("root@floor");
  const knownHosts = xmlFile("known_hosts", `${ip} ${hostKey.publicKey}\n`);

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
          ip: { address: `${net}.1`, netmask: "255.255.255.0", dhcp: { range: { start: `${net}.2`, end: `${net}.254` }, hosts: [{ mac, name: "floor", ip }] } },
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
    mark.overlay = now();
    await virsh(
      "vol-create",
      poolName,
      xmlFile(
        "overlay.xml",
        buildVolumeXml({
          name: `${domain}.qcow2`,
          capacity: o.diskBytes,
          target: { format: { type: "qcow2" } },
          backingStore: { path: base, format: { type: "qcow2" } },
        }),
      ),
    );
    mark.seed = now();
    const iso = await seedIso(
      {
        userData: userData({ hostname: "floor", fqdn: "floor.bench.internal", rootAuthorizedKeys: userKeys, hostKeys: { ed25519: hostKey } }),
        metaData: metaData({ instanceId: domain, hostname: "floor" }),
        networkConfig: networkConfig({ macAddress: mac }),
      },
      files,
    );
    const seedVol = `${domain}-cidata.iso`;
    const isoBytes = (await ok(["stat", "-c", "%s", iso])).trim();
    await virsh("vol-create-as", poolName, seedVol, isoBytes, "--format", "iso");
    await virsh("vol-upload", "--pool", poolName, seedVol, iso);
    mark.defineStart = now();
    await virsh(
      "define",
      xmlFile(
        "domain.xml",
        buildDomainXml({
          type: o.domainType,
          name: domain,
          memory: o.memoryMiB,
          vcpu: 1,
          devices: {
            disks: [
              { driver: { type: "qcow2" }, source: { file: `${poolDir}/${domain}.qcow2` }, target: { dev: "vda" }, readonly: false },
              { driver: { type: "raw" }, source: { file: `${poolDir}/${seedVol}` }, target: { dev: "vdb" }, readonly: true },
            ],
            interfaces: [{ mac: { address: mac }, source: { network: name } }],
            serials: [{ log: { file: consoleLog } }],
          },
        }),
      ),
    );
    made.domain = true;
    await virsh("start", domain);
    mark.started = now();
    log(`floor: started after ${((mark.started - t0) / 1000).toFixed(1)} s; waiting for the lease, SSH and cloud-init`);

    const deadline = mark.started + o.timeoutMs;
    const timedOut = async (what: string) =>
      new Error(`the floor VM was not ready within ${o.timeoutMs / 1000} s: ${what}\n${(await run(["tail", "-n", "25", consoleLog])).stdout}`);
    for (;;) {
      checkInterrupted();
      const leases = await virsh("net-dhcp-leases", name, "--mac", mac);
      if (leasedIp(leases, mac) !== undefined) break;
      if (now() > deadline) throw await timedOut("no DHCP lease");
      await sleep(o.pollMs);
    }
    mark.leased = now();

    // One ssh per attempt, as readiness does: it prints a line once logged in, then waits for cloud-init.
    let attempts = 0;
    for (;;) {
      checkInterrupted();
      attempts++;
      const r = await sshOnce(o, ip, knownHosts);
      if (r.loggedInAt !== undefined) mark.loggedIn = r.loggedInAt;
      if (r.code === 0) break;
      if (r.code !== 255) throw new Error(`cloud-init in the floor VM finished with errors (exit ${r.code}):\n${r.out}`);
      if (now() > deadline) throw await timedOut(`ssh did not log in (last: ${r.out.trim() || "no answer"})`);
      await sleep(o.pollMs);
    }
    mark.ready = now();
    const loggedIn = mark.loggedIn ?? mark.ready;

    const overlayFile = `${poolDir}/${domain}.qcow2`;
    const disk = {
      overlayBytes: await fileBytes(overlayFile),
      seedBytes: await fileBytes(`${poolDir}/${seedVol}`),
      overlayActualBytes: (await qemuImgInfo(overlayFile)).actualSize,
      baseBytes: await fileBytes(base),
    };
    return {
      phases: {
        network: mark.pool - mark.network,
        pool: mark.baseCopy - mark.pool,
        baseCopy: mark.overlay - mark.baseCopy,
        overlay: mark.seed - mark.overlay,
        seed: mark.defineStart - mark.seed,
        defineStart: mark.started - mark.defineStart,
        lease: mark.leased - mark.started,
        ssh: loggedIn - mark.leased,
        cloudInit: mark.ready - loggedIn,
      },
      totalMs: mark.ready - t0,
      bootMs: mark.ready - mark.started,
      setupMs: mark.started - t0,
      disk,
      sshAttempts: attempts,
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
