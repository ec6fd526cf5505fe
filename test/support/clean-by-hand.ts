// Takes a cluster off the host by hand, for tests whose `pulumi destroy` (or demo:down) failed or
// was never reached: every libvirt object and firewall rule named after the cluster, and its logs.
import { execFileSync } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import * as path from "node:path";
import { deleteSavedRuleArgv, taggedRules } from "../../host/iptables";

const QEMU_LOGS = "/var/log/libvirt/qemu";

export function cleanClusterByHand(cluster: string, netns: string | undefined): void {
  const virsh = (...args: string[]) => execFileSync("virsh", ["-q", "-c", "qemu:///system", ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const inNetns = (...argv: string[]) =>
    execFileSync(netns !== undefined ? "ip" : argv[0]!, netns !== undefined ? ["netns", "exec", netns, ...argv] : argv.slice(1), {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  const quietly = <T>(f: () => T): T | undefined => {
    try {
      return f();
    } catch {
      return undefined; // already gone, or libvirt not running
    }
  };
  const names = (out: string | undefined) =>
    (out ?? "")
      .split("\n")
      .map((l) => l.trim().split(/\s+/)[0]!)
      .filter(Boolean);
  for (const domain of names(quietly(() => virsh("list", "--all", "--name"))).filter((d) => d.startsWith(`${cluster}-`))) {
    quietly(() => virsh("destroy", domain));
    quietly(() => virsh("undefine", domain, "--nvram"));
  }
  const pool = `${cluster}-pool`;
  for (const volume of names(quietly(() => virsh("vol-list", pool)))) quietly(() => virsh("vol-delete", "--pool", pool, volume));
  quietly(() => virsh("pool-destroy", pool));
  quietly(() => virsh("pool-delete", pool));
  quietly(() => virsh("pool-undefine", pool));
  quietly(() => virsh("net-destroy", cluster));
  quietly(() => virsh("net-undefine", cluster));
  for (const rule of taggedRules(quietly(() => inNetns("iptables-save")) ?? "", `vm-cluster:${cluster}`)) quietly(() => inNetns(...deleteSavedRuleArgv(rule)));
  for (const log of quietly(() => readdirSync(QEMU_LOGS)) ?? []) if (log.startsWith(`${cluster}-`)) rmSync(path.join(QEMU_LOGS, log), { force: true });
}
