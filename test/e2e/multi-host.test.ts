// One cluster across two VM hosts, typed as a user would: host A is the test bed's libvirtd, local
// to pulumi (which runs in A's network namespace, as on a lab host); host B is a second libvirt host
// (testbed/second-host.ts) reached over SSH across their LAN. One small VM on each (software
// emulation, 384 MiB):
//
//   one host     the stack starts on host A alone (`host`, `lan`), with a1
//   two hosts    `host` and `lan` move into `hosts` and host B comes with b1: preview shows nothing of
//                host A replaced or made anew (its resources are taken for the same ones), up
//                prepares B with its own pool, network and base image
//   reach        this machine reaches both VMs by ssh_config; a1 pings b1 by address and by name, and
//                SSHes to it by name: b1 sees a1's own address (no NAT between the hosts' subnets);
//                Ansible reaches both through the one inventory
//   move         a1 moved to host B: preview says replace, up boots it there and removes it from A
//   destroy      both hosts as they were before (snapshot per host)
import { execFileSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { stringify as toYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyProject, engineSandbox, type CliResult, type EngineSandbox } from "../../testbed/engine";
import { startSecondHost, type SecondHost } from "../../testbed/second-host";
import { cleanClusterByHand } from "../support/clean-by-hand";
import { useLibvirt } from "../support/libvirt-fixture";
import { startPulumi, type Running } from "../faults/fault-bed";

const lv = useLibvirt();
const LAN = 7;
const STACK = "two-hosts";
const CLUSTER = "mhost";
const NET = "10.231.80";
const A1 = { name: "a1", ip: `${NET}.10` };
const B1 = { name: "b1", ip: `${NET}.70` };

let sandbox: EngineSandbox;
let project: string;
let host2: SecondHost | undefined;
let keyFile: string;
let hostKeyFile: string;
let image: { url: string; sha512: string };
let stackMade = false;
const runs: Running[] = [];

const ns = (...argv: string[]) => execFileSync("ip", ["netns", "exec", lv.netns(), ...argv], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const onB = (...argv: string[]) => host2!.run(argv);

/** pulumi in host A's namespace, in the project folder, as a user on that host types it. */
async function pulumi(...args: string[]): Promise<CliResult> {
  const run = startPulumi(project, sandbox.env, ["--stack", STACK, ...args], lv.netns());
  runs.push(run);
  return run.done;
}

async function ok(...args: string[]): Promise<CliResult> {
  const r = await pulumi(...args);
  expect(r.code, r.out).toBe(0);
  return r;
}

const LAN_SUBNET = `10.232.${LAN}.0/24`;

function writeStackFile(layout: Record<string, unknown>): void {
  const config = {
    "vm-cluster:cluster": CLUSTER,
    ...layout,
    "vm-cluster:defaults": { disk: "3G", memoryMiB: 384, vcpus: 1 },
    "vm-cluster:sshPublicKey": { file: `${keyFile}.pub` },
    "vm-cluster:image": image,
    "vm-cluster:domainType": "qemu",
    "vm-cluster:readinessTimeoutSeconds": 300,
  };
  writeFileSync(path.join(project, `Pulumi.${STACK}.yaml`), toYaml({ config }));
}

/** Host A's subnet, written out as a single-host stack has it. */
const A_NETWORK = { cidr: `${NET}.0/26`, gateway: `${NET}.1`, dhcpStart: `${NET}.2`, dhcpEnd: `${NET}.62` };

/** The cluster on host A alone. */
function oneHost(): void {
  writeStackFile({
    "vm-cluster:lan": { interface: `vmch${LAN}a`, subnet: LAN_SUBNET, address: host2!.lanAddress },
    "vm-cluster:network": A_NETWORK,
    "vm-cluster:vms": [A1],
  });
}

function twoHosts(vms: { name: string; ip: string; host: string }[]): void {
  writeStackFile({
    "vm-cluster:hosts": {
      // As README's "From one host to several" says: the old network moves into the first entry.
      a: { type: "local", lan: { interface: `vmch${LAN}a`, subnet: LAN_SUBNET, address: host2!.lanAddress }, network: A_NETWORK },
      b: {
        type: "ssh",
        host: host2!.address,
        user: "root",
        privateKey: hostKeyFile,
        hostKey: host2!.hostKey,
        lan: { interface: `vmch${LAN}b`, subnet: LAN_SUBNET, address: host2!.address },
      },
    },
    "vm-cluster:network": { cidr: `${NET}.0/24` },
    "vm-cluster:vms": vms,
  });
}

/** `pulumi preview --json`: each step's operation and resource name. */
async function plannedSteps(): Promise<{ op: string; name: string }[]> {
  const r = await ok("preview", "--json");
  return (JSON.parse(r.stdout).steps as { op: string; urn: string }[]).map(({ op, urn }) => ({ op, name: urn.split("::").pop()! }));
}

/**
 * What a host has that a cluster could leave behind: libvirt objects, iptables rules, routes,
 * ip_forward, vm-cluster's own records. libvirt keeps its (then empty) chains and their jumps once
 * it has started a network, so those lines are left out; every rule in them is kept.
 */
function snapshot(run: (...argv: string[]) => string): Record<string, string> {
  const rules = run("iptables-save")
    .split("\n")
    .filter((l) => l.startsWith("-A ") && !/^-A (INPUT|FORWARD|OUTPUT|POSTROUTING) -j LIBVIRT_[A-Z]+$/.test(l))
    .sort()
    .join("\n");
  const virsh = (...args: string[]) => run("virsh", "-q", "-c", "qemu:///system", ...args);
  return {
    domains: virsh("list", "--all", "--name"),
    networks: virsh("net-list", "--all", "--name"),
    pools: virsh("pool-list", "--all", "--name"),
    rules,
    routes: run("ip", "-4", "route"),
    ipForward: run("sysctl", "-n", "net.ipv4.ip_forward"),
    // Not the image download cache (/var/lib/vm-cluster/images), which destroy keeps on purpose.
    records: run("bash", "-c", "ls -R -I images /var/lib/vm-cluster /etc/sysctl.d 2>/dev/null || true"),
    poolDir: run("bash", "-c", `ls -d /var/lib/libvirt/images/${CLUSTER} 2>/dev/null || true`),
  };
}

let beforeA: Record<string, string>;
let beforeB: Record<string, string>;

/** ssh from this machine (in host A's namespace) with the stack's ssh_config. */
function ssh(...argv: string[]): string {
  return ns("ssh", "-F", path.join(project, "ssh_config"), "-o", "BatchMode=yes", "-o", "ConnectTimeout=20", ...argv);
}

beforeAll(async () => {
  sandbox = engineSandbox("multihost");
  project = path.join(sandbox.dir, "project");
  copyProject(project);
  keyFile = path.join(sandbox.dir, "id_ed25519");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "multihost", "-f", keyFile]);
  // Both hosts read the image from this machine's disk (B shares it): a file:// URL and its digest.
  const built = execFileSync("bash", [path.join(__dirname, "../image/build-image.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
  const file = path.join(sandbox.dir, "test-image.qcow2");
  execFileSync("cp", ["--reflink=auto", built, file]);
  execFileSync("chmod", ["0755", sandbox.dir]);
  image = { url: `file://${file}`, sha512: execFileSync("sha512sum", [file], { encoding: "utf8" }).split(" ")[0]! };
  host2 = await startSecondHost({ lanNetns: lv.netns(), lan: LAN });
  hostKeyFile = path.join(sandbox.dir, "host2_key");
  writeFileSync(hostKeyFile, host2.privateKey, { mode: 0o600 });
  cleanClusterByHand(CLUSTER, lv.netns());
  beforeA = snapshot(ns);
  beforeB = snapshot(onB);
  oneHost();
  await ok("stack", "init");
  stackMade = true;
}, 600_000);

afterAll(async () => {
  for (const run of runs) if (run.child.exitCode === null) run.child.kill("SIGKILL");
  if (stackMade) {
    const r = await pulumi("destroy", "--yes", "--skip-preview");
    if (r.code !== 0) console.error(`multi-host: destroy in afterAll failed:\n${r.out}`);
  }
  cleanClusterByHand(CLUSTER, lv.netns());
  await host2?.stop();
  sandbox?.cleanup();
}, 900_000);

describe("a cluster across two hosts", () => {
  it("starts on one host", async () => {
    await ok("up", "--yes", "--skip-preview");
    expect(ns("virsh", "-q", "-c", "qemu:///system", "list", "--name")).toContain(`${CLUSTER}-a1`);
  }, 900_000);

  it("grows a second host: nothing of the first is replaced, the second gets its own pool, network and base image", async () => {
    twoHosts([
      { ...A1, host: "a" },
      { ...B1, host: "b" },
    ]);
    const steps = await plannedSteps();
    const changed = steps.filter((step) => step.op !== "same");
    // Host A's resources keep their state under their new names: updated at most (the routes to B are new).
    expect(changed.filter((step) => !["update", "create"].includes(step.op))).toEqual([]);
    const made = changed.filter((step) => step.op === "create").map((step) => step.name);
    expect(made.filter((name) => !name.startsWith(`${CLUSTER}-b`))).toEqual([`${CLUSTER}-a-routes`]);
    expect(made).toEqual(expect.arrayContaining([`${CLUSTER}-b-host`, `${CLUSTER}-b-pool`, `${CLUSTER}-b-network`, `${CLUSTER}-b1-domain`]));
    // Under its new name, A's network is the same one, given b1's names; its pool and a1 are untouched.
    expect(changed).toContainEqual({ op: "update", name: `${CLUSTER}-a-network` });
    expect(changed.map((step) => step.name)).not.toEqual(expect.arrayContaining([`${CLUSTER}-a-pool`]));
    expect(changed.filter((step) => step.name.startsWith(`${CLUSTER}-a1-`))).toEqual([]);
    await ok("up", "--yes", "--skip-preview");
    const virshA = (...args: string[]) => ns("virsh", "-q", "-c", "qemu:///system", ...args);
    const virshB = (...args: string[]) => onB("virsh", "-q", "-c", "qemu:///system", ...args);
    expect(virshA("list", "--name")).toContain(`${CLUSTER}-a1`);
    expect(virshA("list", "--all", "--name")).not.toContain(`${CLUSTER}-b1`);
    expect(virshB("list", "--name").trim()).toBe(`${CLUSTER}-b1`);
    for (const virsh of [virshA, virshB]) {
      expect(virsh("pool-list", "--name")).toContain(`${CLUSTER}-pool`);
      expect(virsh("vol-list", `${CLUSTER}-pool`)).toContain(`${CLUSTER}-base.qcow2`);
    }
    // Each host's network is its quarter of the cluster's /24.
    expect(virshA("net-dumpxml", CLUSTER)).toContain(`address='${NET}.1' netmask='255.255.255.192'`);
    expect(virshB("net-dumpxml", CLUSTER)).toContain(`address='${NET}.65' netmask='255.255.255.192'`);
    const outputs = JSON.parse((await ok("stack", "output", "--json")).stdout) as Record<string, string>;
    // pulumi runs on host A, whose routes reach host B's VMs: no jump through B.
    expect(outputs.sshConfig).not.toContain("ProxyJump");
    writeFileSync(path.join(project, "ssh_config"), outputs.sshConfig!);
    writeFileSync(path.join(project, "inventory.ini"), outputs.inventory!);
  }, 1_200_000);

  it("reaches both VMs from this machine, and b1 from a1 by address and name, seeing a1's own address", () => {
    expect(ssh("a1", "hostname").trim()).toBe("a1");
    expect(ssh("b1", "hostname").trim()).toBe("b1");
    // a1's network answers b1's names, and the route through host B's LAN address reaches it.
    expect(ssh("a1", "getent hosts b1").trim().split(/\s+/)[0]).toBe(B1.ip);
    expect(ssh("a1", `ping -c 1 -W 10 ${B1.ip} >/dev/null && ping -c 1 -W 10 b1.${CLUSTER}.internal >/dev/null && echo pinged`).trim()).toBe("pinged");
    expect(ssh("b1", "getent hosts a1").trim().split(/\s+/)[0]).toBe(A1.ip);
    // SSH from a1 to b1 by name: a1 opens the connection (-W b1:22 resolves b1 there) and b1 sees
    // a1's address as the client, not host A's or host B's.
    const viaA1 = `ssh -F ${path.join(project, "ssh_config")} -o BatchMode=yes -W b1:22 a1`;
    const seen = ssh("-o", `ProxyCommand=${viaA1}`, "b1", "echo $SSH_CONNECTION").trim().split(" ")[0];
    expect(seen).toBe(A1.ip);
  }, 300_000);

  it("is one Ansible inventory for both hosts' VMs", () => {
    const out = ns("ansible", "-i", path.join(project, "inventory.ini"), "all", "-m", "ping", "-o");
    expect(out).toMatch(/^a1 \| SUCCESS/m);
    expect(out).toMatch(/^b1 \| SUCCESS/m);
  }, 300_000);

  it("moves a VM to the other host as a replace that preview shows, removing it from the first", async () => {
    twoHosts([
      { name: "a1", ip: `${NET}.71`, host: "b" },
      { ...B1, host: "b" },
    ]);
    const preview = await ok("preview", "--diff");
    const replaced = (resource: string) => new RegExp(`\\+-\\S+: \\(replace\\)\\s+\\[id=[^\\]]*\\]\\s+\\[urn=[^\\]]*::${resource}\\]`);
    expect(preview.out).toMatch(replaced(`${CLUSTER}-a1-domain`));
    expect(preview.out).toMatch(replaced(`${CLUSTER}-a1-disk`));
    expect(preview.out).not.toMatch(replaced(`${CLUSTER}-b1-[a-z]+`));
    await ok("up", "--yes", "--skip-preview");
    expect(ns("virsh", "-q", "-c", "qemu:///system", "list", "--all", "--name")).not.toContain(`${CLUSTER}-a1`);
    expect(onB("virsh", "-q", "-c", "qemu:///system", "list", "--name")).toContain(`${CLUSTER}-a1`);
    const outputs = JSON.parse((await ok("stack", "output", "--json")).stdout) as Record<string, string>;
    writeFileSync(path.join(project, "ssh_config"), outputs.sshConfig!);
    expect(ssh("a1", "hostname -I").trim()).toBe(`${NET}.71`);
  }, 1_200_000);

  it("destroys everything on both hosts, leaving each as it was", async () => {
    await ok("destroy", "--yes", "--skip-preview");
    stackMade = false;
    await ok("stack", "rm", "--yes");
    expect(snapshot(ns)).toEqual(beforeA);
    expect(snapshot(onB)).toEqual(beforeB);
    expect(existsSync(path.join(project, ".vm-cluster", STACK, `${CLUSTER}.known_hosts`))).toBe(false);
  }, 900_000);
});
