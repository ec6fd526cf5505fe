// A second, independent libvirt host on this machine, for multi-host tests: a mount and network
// namespace of its own (tmpfs over /run and libvirt's state, cache and log folders, libvirt's *.conf
// copied over an empty /etc/libvirt) running its own virtlogd, libvirtd and sshd, joined to another
// namespace (the first host's) by a veth pair: the "LAN". Its virsh sees only its own pools, networks
// and domains. Stopped by pid: every process in its network namespace, then the namespace's holder,
// which takes its mounts and the veth pair along.
import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { writeSshdFiles } from "./sshd-files";
import { alive } from "./host-state";
import { waitFor } from "./wait";

export interface SecondHost {
  /** Its address on the LAN; its sshd listens there on port 22. */
  address: string;
  /** The LAN side's address (in `lanNetns`). */
  lanAddress: string;
  /** root's private key for its sshd, and that sshd's host key line. */
  privateKey: string;
  hostKey: string;
  /** Runs a command inside this host (its mount and network namespace); its output. */
  run(argv: string[]): string;
  /** Pids of every process in this host's network namespace (daemons, dnsmasq, QEMU, sessions). */
  processes(): number[];
  /** The holder of its namespaces (its mounts are in /proc/<pid>/mountinfo). */
  pid: number;
  stop(): Promise<void>;
}

export interface SecondHostOptions {
  /** The namespace at the LAN's other end: the first host's. */
  lanNetns: string;
  /** Third octet of the LAN 10.232.<lan>.0/24; also names the veth pair, so distinct per bed. */
  lan: number;
}

const sh = (argv: string[]) => execFileSync(argv[0]!, argv.slice(1), { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const nsId = (pid: number, kind: "net" | "mnt") => readlinkSync(`/proc/${pid}/ns/${kind}`);
const netnsId = (pid: number) => nsId(pid, "net");

/**
 * The folders the host has of its own: libvirt's, and where vm-cluster keeps what it changed on a
 * host (so two hosts of one stack do not share it). Everything else (the disk, /tmp, /dev/kvm) it
 * shares with this machine.
 */
const OWN_TMPFS = ["/run", "/var/lib/libvirt", "/var/cache/libvirt", "/var/log/libvirt", "/var/lib/vm-cluster", "/etc/sysctl.d"];

export async function startSecondHost(opts: SecondHostOptions): Promise<SecondHost> {
  const dir = mkdtempSync(path.join(tmpdir(), "vmc-host2-"));
  // libvirt's settings without the machine's defined networks, pools and domains: a fresh host.
  const etc = path.join(dir, "etc-libvirt");
  mkdirSync(etc);
  for (const f of readdirSync("/etc/libvirt").filter((f) => f.endsWith(".conf"))) cpSync(path.join("/etc/libvirt", f), path.join(etc, f));
  const holder = spawn("unshare", ["--mount", "--net", "--propagation", "private", "sleep", "infinity"], { stdio: "ignore", detached: true });
  holder.unref();
  const pid = holder.pid!;
  const ours = { net: nsId(process.pid, "net"), mnt: nsId(process.pid, "mnt") };
  /** The holder's namespaces once seen to be its own: nothing acts on a pid that no longer has them. */
  let own: { net: string; mnt: string } | undefined;
  const stillOwn = () => {
    try {
      return own !== undefined && alive(pid) && nsId(pid, "net") === own.net && nsId(pid, "mnt") === own.mnt;
    } catch {
      return false;
    }
  };
  const run = (argv: string[]) => {
    if (!stillOwn()) throw new Error("the second host is not running");
    return sh(["nsenter", "-t", String(pid), "-m", "-n", "--", ...argv]);
  };
  const processes = () => {
    if (!stillOwn()) return [];
    const net = own!.net;
    return readdirSync("/proc")
      .filter((e) => /^\d+$/.test(e) && Number(e) !== pid)
      .map(Number)
      .filter((p) => {
        try {
          return netnsId(p) === net;
        } catch {
          return false;
        }
      });
  };
  const [veth, peer] = [`vmch${opts.lan}a`, `vmch${opts.lan}b`];
  const [lanAddress, address] = [`10.232.${opts.lan}.1`, `10.232.${opts.lan}.2`];
  const stop = async () => {
    if (stillOwn()) {
      // Guests first (libvirtd leaves QEMU running when it stops), then the daemons, then the rest.
      for (const domain of safe(() => run(["virsh", "-q", "-c", "qemu:///system", "list", "--name"]))
        .split("\n")
        .filter(Boolean))
        safe(() => run(["virsh", "-q", "-c", "qemu:///system", "destroy", domain]));
      for (const daemon of ["libvirtd", "virtlogd"]) {
        const daemonPid = Number(safe(() => readFileSync(`/proc/${pid}/root/run/${daemon}.pid`, "utf8")).trim());
        // Only a pid in this host's namespace: a stale pid file must not name anything else.
        if (daemonPid > 0 && processes().includes(daemonPid)) {
          process.kill(daemonPid, "SIGTERM");
          await waitFor(`${daemon} of the second host to exit`, () => !alive(daemonPid), 15_000).catch(() => process.kill(daemonPid, "SIGKILL"));
        }
      }
      for (const p of processes()) safe(() => process.kill(p, "SIGTERM"));
      await waitFor("the second host's processes to exit", () => processes().length === 0, 10_000).catch(() =>
        processes().forEach((p) => safe(() => process.kill(p, "SIGKILL"))),
      );
      process.kill(pid, "SIGKILL");
      await waitFor("the second host's namespaces to go", () => !alive(pid), 10_000);
    } else if (own === undefined && alive(pid) && holder.exitCode === null) {
      holder.kill("SIGKILL"); // never got namespaces of its own: nothing else of it to stop
    }
    own = undefined;
    safe(() => sh(["ip", "-n", opts.lanNetns, "link", "delete", veth]));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      "the second host's namespaces",
      () => alive(pid) && nsId(pid, "net") !== ours.net && nsId(pid, "mnt") !== ours.mnt && readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "sleep",
      10_000,
    );
    own = { net: nsId(pid, "net"), mnt: nsId(pid, "mnt") };
    run([
      "bash",
      "-euc",
      [
        "mount --make-rprivate /",
        ...OWN_TMPFS.map((d) => `mkdir -p ${d} && mount -t tmpfs -o mode=0755 vmc-host2 ${d}`),
        `mount --bind ${etc} /etc/libvirt`,
        "mkdir -p /run/sshd /var/lib/libvirt/images /var/log/libvirt/qemu",
        "ip link set lo up",
        "virtlogd -d",
        "libvirtd -d",
      ].join("\n"),
    ]);
    await waitFor(
      "the second host's libvirtd to answer",
      () => {
        try {
          run(["virsh", "-q", "-c", "qemu:///system", "version"]);
          return true;
        } catch {
          return false;
        }
      },
      30_000,
    );
    sh(["ip", "link", "add", veth, "netns", opts.lanNetns, "type", "veth", "peer", "name", peer, "netns", String(pid)]);
    sh(["ip", "-n", opts.lanNetns, "addr", "add", `${lanAddress}/24`, "dev", veth]);
    sh(["ip", "-n", opts.lanNetns, "link", "set", veth, "up"]);
    run(["ip", "addr", "add", `${address}/24`, "dev", peer]);
    run(["ip", "link", "set", peer, "up"]);
    // Its default route points at the LAN side, as a LAN host's points at its router.
    run(["ip", "route", "add", "default", "via", lanAddress]);
    writeSshdFiles(dir, `${address}:22`, ["MaxStartups 100"]);
    const sshd = spawn("nsenter", ["-t", String(pid), "-m", "-n", "--", "/usr/sbin/sshd", "-D", "-e", "-f", path.join(dir, "sshd_config")], {
      stdio: "ignore",
      detached: true,
    });
    sshd.unref();
    await waitFor(
      "the second host's sshd",
      () => {
        try {
          sh(["ip", "netns", "exec", opts.lanNetns, "bash", "-c", `exec 3<>/dev/tcp/${address}/22`]);
          return true;
        } catch {
          return false;
        }
      },
      10_000,
    );
    return {
      address,
      lanAddress,
      privateKey: readFileSync(path.join(dir, "client_key"), "utf8"),
      hostKey: readFileSync(path.join(dir, "host_key.pub"), "utf8").trim(),
      run,
      processes,
      pid,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** What `f` returns, or "" when it throws: for stopping what may already be gone. */
function safe(f: () => unknown): string {
  try {
    const out = f();
    return typeof out === "string" ? out : "";
  } catch {
    return "";
  }
}
