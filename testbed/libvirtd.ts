// The test bed's libvirt daemon. Only one system libvirtd can run on a machine, so tests reuse a
// running one (the demo's, say) and otherwise start their own inside a network namespace of their
// own, so bridges, dnsmasq and iptables rules never reach the machine's real network. Whatever
// this module started, it stops by pid.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { netnsExists } from "./host-state";
import { waitFor } from "./wait";

export const LIBVIRT_URI = "qemu:///system";
const PID_FILE = "/run/libvirtd.pid";
const LOG_PID_FILE = "/run/virtlogd.pid";

export interface Libvirtd {
  /** The network namespace the daemon (and so its networks) lives in. */
  netns: string;
  /** Pids this harness started, in the order to stop them (libvirtd first). */
  startedPids: number[];
  /** Namespace this harness created (removed on stop), or undefined when reused. */
  createdNetns?: string;
}

function alive(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

function sh(argv: string[]): string {
  return execFileSync(argv[0], argv.slice(1), { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Namespace of a running process, or undefined when it runs in the machine's own. */
function netnsOf(pid: number): string | undefined {
  const name = sh(["ip", "netns", "identify", String(pid)]).trim();
  return name || undefined;
}

/** What udev would do: without it, libvirt re-probes QEMU on every call (~90 s per define). */
function fixKvmPermissions(): void {
  if (existsSync("/dev/kvm")) {
    sh(["chgrp", "kvm", "/dev/kvm"]);
    sh(["chmod", "0660", "/dev/kvm"]);
  }
}

export async function startLibvirtd(netnsName: string): Promise<Libvirtd> {
  const running = alive(PID_FILE);
  if (running !== undefined) {
    const netns = netnsOf(running);
    if (!netns) {
      throw new Error(`libvirtd (pid ${running}) runs in this machine's own network namespace; tests only use one in a namespace of its own`);
    }
    return { netns, startedPids: [] };
  }
  fixKvmPermissions();
  const startedPids: number[] = [];
  let createdNetns: string | undefined;
  if (!netnsExists(netnsName)) {
    sh(["ip", "netns", "add", netnsName]);
    createdNetns = netnsName;
  }
  sh(["ip", "netns", "exec", netnsName, "ip", "link", "set", "lo", "up"]);
  if (alive(LOG_PID_FILE) === undefined) {
    sh(["ip", "netns", "exec", netnsName, "virtlogd", "-d"]);
    await waitFor("virtlogd's pid file", () => alive(LOG_PID_FILE) !== undefined, 10_000);
    startedPids.push(alive(LOG_PID_FILE)!);
  }
  sh(["ip", "netns", "exec", netnsName, "libvirtd", "-d"]);
  await waitFor("libvirtd's pid file", () => alive(PID_FILE) !== undefined, 10_000);
  startedPids.unshift(alive(PID_FILE)!);
  await waitFor(
    "libvirtd to answer",
    () => {
      try {
        sh(["virsh", "-c", LIBVIRT_URI, "version"]);
        return true;
      } catch {
        return false;
      }
    },
    30_000,
  );
  return { netns: netnsName, startedPids, createdNetns };
}

export async function stopLibvirtd(d: Libvirtd): Promise<void> {
  for (const pid of d.startedPids) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      continue;
    }
    await waitFor(
      `pid ${pid} to exit`,
      () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      },
      15_000,
    ).catch(() => process.kill(pid, "SIGKILL"));
  }
  if (d.createdNetns) sh(["ip", "netns", "delete", d.createdNetns]);
}
