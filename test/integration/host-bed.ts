// A host of the test's own for the host resources: a network namespace (its own iptables tables
// and ip_forward) and a temp folder standing in for /etc/sysctl.d, network.conf and vm-cluster's
// state folder. It starts with rules of other software and of another cluster, which must survive.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { LocalConnection, type LocalConnectionSpec } from "../../transport/connection";
import { netnsExists } from "../../testbed/host-state";

/** libvirt 10.x's network.conf: the setting commented out. */
export const STOCK_NETWORK_CONF = '# Master configuration file for the network driver.\n#\n#firewall_backend = "nftables"\n';

/** Rules that are not this project's cluster "anemoi": other software, and another cluster. */
const FOREIGN_RULES = [
  ["-t", "filter", "-A", "FORWARD", "-i", "eth7", "-o", "eth8", "-j", "ACCEPT"],
  // The same rule as ours but without our comment: someone else's, to be left alone.
  ["-t", "filter", "-A", "FORWARD", "-s", "172.17.2.0/24", "-d", "172.17.1.0/24", "-i", "kvmbr0", "-o", "eno1", "-j", "ACCEPT"],
  [
    "-t",
    "filter",
    "-A",
    "FORWARD",
    "-s",
    "172.17.2.0/24",
    "-d",
    "172.17.1.0/24",
    "-i",
    "kvmbr0",
    "-o",
    "eno1",
    "-m",
    "comment",
    "--comment",
    "vm-cluster:anemoi2",
    "-j",
    "ACCEPT",
  ],
  ["-t", "nat", "-A", "POSTROUTING", "-s", "10.9.0.0/16", "-o", "eth7", "-j", "MASQUERADE"],
];

export interface HostSnapshot {
  iptables: string;
  ipForward: string;
  sysctlD: Record<string, string>;
  networkConf: string | undefined;
  stateDirExists: boolean;
}

export interface HostBed {
  netns: string;
  spec: LocalConnectionSpec;
  conn: LocalConnection;
  dir: string;
  sysctlDir: string;
  networkConf: string;
  stateDir: string;
  /** Runs argv inside the namespace, directly (not through the code under test). */
  sh(argv: string[]): string;
  /** Exit code of argv inside the namespace. */
  code(argv: string[]): number;
  snapshot(): HostSnapshot;
  cleanup(): void;
}

function run(argv: string[]): string {
  return execFileSync(argv[0]!, argv.slice(1), { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

export function createHostBed(name: string): HostBed {
  const netns = `vmc-${name}-${process.pid}`;
  const dir = mkdtempSync(path.join(tmpdir(), `vmc-${name}-`));
  const sysctlDir = path.join(dir, "sysctl.d");
  const networkConf = path.join(dir, "libvirt", "network.conf");
  const stateDir = path.join(dir, "state");
  const spec: LocalConnectionSpec = { type: "local", netns };
  const inNs = (argv: string[]) => ["ip", "netns", "exec", netns, ...argv];
  const bed: HostBed = {
    netns,
    spec,
    conn: new LocalConnection(spec),
    dir,
    sysctlDir,
    networkConf,
    stateDir,
    sh: (argv) => run(inNs(argv)),
    code: (argv) => {
      try {
        run(inNs(argv));
        return 0;
      } catch (err) {
        return (err as { status?: number }).status ?? -1;
      }
    },
    snapshot: () => ({
      // Without the dated comments and the packet counters.
      iptables: bed
        .sh(["iptables-save"])
        .split("\n")
        .filter((l) => !l.startsWith("#"))
        .map((l) => l.replace(/\[\d+:\d+\]/g, "[0:0]"))
        .join("\n"),
      ipForward: bed.sh(["sysctl", "-n", "net.ipv4.ip_forward"]).trim(),
      sysctlD: Object.fromEntries(readdirSync(sysctlDir).map((f) => [f, readFileSync(path.join(sysctlDir, f), "utf8")])),
      networkConf: existsSync(networkConf) ? readFileSync(networkConf, "utf8") : undefined,
      stateDirExists: existsSync(stateDir) && statSync(stateDir).isDirectory(),
    }),
    cleanup: () => {
      if (netnsExists(netns)) run(["ip", "netns", "delete", netns]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    run(["ip", "netns", "add", netns]);
    bed.sh(["ip", "link", "set", "lo", "up"]);
    for (const rule of FOREIGN_RULES) bed.sh(["iptables", "-w", ...rule]);
    mkdirSync(sysctlDir);
    writeFileSync(path.join(sysctlDir, "99-local.conf"), "vm.swappiness = 10\n");
    mkdirSync(path.dirname(networkConf));
    writeFileSync(networkConf, STOCK_NETWORK_CONF);
  } catch (err) {
    bed.cleanup();
    throw err;
  }
  return bed;
}
