// The user's whole job, end to end, with the literal `pulumi` commands on a throw-away copy of
// this project: a real libvirtd in the test bed's network namespace, guests under software
// emulation, the offline test image from a loopback mirror. Booted VMs are shared by all checks.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { stringify as toYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readinessProvider, type ReadinessInputs } from "../../guest/readiness";
import { buildNetworkXml } from "../../libvirt/xml";
import { copyProject, engineSandbox, pulumiCli, type EngineSandbox } from "../../testbed/engine";
import { useLibvirt } from "../support/libvirt-fixture";
import { startTestImageMirror, type Mirror } from "../../testbed/mirror";
import { readmeCommand, runShell, userShellEnv } from "../support/readme";
import { throwawayCa } from "../../testbed/ca";
import { consoleLogin } from "../support/console";

const lv = useLibvirt();
const MIRROR_PORT = 18_099;

interface StackDef {
  stack: string;
  cluster: string;
  /** Third octet of the cluster's 10.231.X.0/24. */
  subnet: number;
  vms: string[];
  /** Config keys over the defaults below, and per-VM keys (day-2 changes). */
  extra?: Record<string, unknown>;
  vmExtra?: Record<string, Record<string, unknown>>;
  /** A Kubernetes lab: boreas the control plane, the other VMs workers, in kubespray's groups. */
  lab?: boolean;
}
/** The seed's four winds; each keeps its address (.10-.13) whichever stack it is in. */
const VM_NAMES = ["boreas", "zephyrus", "notus", "eurus"];
// Named as in README, whose commands the checks below type as shown.
const A: StackDef = { stack: "e2e-a", cluster: "anemoi", subnet: 41, vms: ["boreas", "zephyrus", "notus"], lab: true };
/** The lab's config: classes and the groups of groups (per VM: `labRole`). Sizes as the defaults: small. */
const LAB = {
  "vm-cluster:classes": { control: { memoryMiB: 384, vcpus: 1 }, worker: { memoryMiB: 384 } },
  "vm-cluster:inventory": { children: { k8s_cluster: ["kube_control_plane", "kube_node"] } },
};
/** notus' cloud-config file, written by beforeAll. */
let labCloudConfig: string;
const labRole = (vm: string) =>
  vm === "boreas"
    ? { class: "control", groups: ["kube_control_plane", "etcd"] }
    : {
        class: "worker",
        groups: ["kube_node"],
        ...(vm === "zephyrus" && { dataDisks: [{ name: "ceph", size: "1G" }] }),
        ...(vm === "notus" && { cloudConfig: { file: labCloudConfig } }),
      };
/** notus' own cloud-config: a file, a user, and a runcmd that reads the file (so it ran after write_files). */
const LAB_CLOUD_CONFIG = [
  "#cloud-config",
  "write_files:",
  "  - { path: /etc/lab/role, content: worker, permissions: '0640' }",
  "users:",
  "  - { name: ops, shell: /bin/bash }",
  "runcmd:",
  "  - cp /etc/lab/role /root/runcmd-marker",
  "",
].join("\n");
const B: StackDef = { stack: "e2e-b", cluster: "etoeb", subnet: 42, vms: ["boreas"] };

let sandbox: EngineSandbox;
let project: string;
let keyFile: string;
let caFile: string;
let keyFile2: string;
let caFile2: string;
let mirror: Mirror | undefined;
let before: string;
const upStacks = new Set<string>();

const ns = (...argv: string[]) => execFileSync("ip", ["netns", "exec", lv.netns(), ...argv], { encoding: "utf8" });

const virshRun = (...args: string[]) => execFileSync("virsh", ["-q", "-c", "qemu:///system", ...args], { encoding: "utf8" });

/** What a cluster may leave behind on the host, as text to compare before and after. */
function hostSnapshot(): string {
  const virsh = (...args: string[]) => execFileSync("virsh", ["-q", "-c", "qemu:///system", ...args], { encoding: "utf8" }).trim();
  const list = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort().join(" ") : "(none)");
  return [
    `domains: ${virsh("list", "--all", "--name")}`,
    `networks: ${virsh("net-list", "--all", "--name")}`,
    `pools: ${virsh("pool-list", "--all", "--name")}`,
    `images: ${list("/var/lib/libvirt/images")}`,
    `qemu logs: ${list("/var/log/libvirt/qemu")}`,
    `links: ${ns("ip", "-o", "link", "show")
      .split("\n")
      .map((l) => l.split(":")[1]?.trim())
      .filter(Boolean)
      .sort()
      .join(" ")}`,
    // Counters and the dump's timestamps change by themselves; the rules are what matter.
    `iptables:\n${ns("iptables-save")
      .split("\n")
      .filter((l) => !l.startsWith("#"))
      .map((l) => l.replace(/\[\d+:\d+\]/, ""))
      .join("\n")}`,
    `ip_forward: ${ns("sysctl", "-n", "net.ipv4.ip_forward").trim()}`,
    `sysctl.d: ${list("/etc/sysctl.d")}`,
    `network.conf: ${existsSync("/etc/libvirt/network.conf") ? readFileSync("/etc/libvirt/network.conf", "utf8") : "(none)"}`,
  ].join("\n");
}

function writeStackFile(def: StackDef): void {
  const net = `10.231.${def.subnet}`;
  const config = {
    "vm-cluster:cluster": def.cluster,
    "vm-cluster:host": { type: "local", netns: lv.netns() },
    "vm-cluster:lan": { interface: "lan0", subnet: "10.231.200.0/24" },
    "vm-cluster:network": { cidr: `${net}.0/24`, gateway: `${net}.1`, dhcpStart: `${net}.2`, dhcpEnd: `${net}.254` },
    "vm-cluster:vms": def.vms.map((name) => ({ name, ip: `${net}.${10 + VM_NAMES.indexOf(name)}`, ...(def.lab && labRole(name)), ...def.vmExtra?.[name] })),
    "vm-cluster:defaults": { disk: "3G", memoryMiB: 384, vcpus: 1 },
    "vm-cluster:sshPublicKey": { file: `${keyFile}.pub` },
    "vm-cluster:caCertificate": { file: caFile },
    "vm-cluster:image": { url: `${mirror!.url}test-image.qcow2`, checksumsUrl: mirror!.checksumsUrl },
    "vm-cluster:domainType": "qemu",
    "vm-cluster:readinessTimeoutSeconds": 600,
    "vm-cluster:consolePassword": true,
    ...(def.lab && LAB),
    ...def.extra,
  };
  writeFileSync(path.join(project, `Pulumi.${def.stack}.yaml`), toYaml({ config }));
}

async function pulumi(def: StackDef, ...args: string[]) {
  return pulumiCli(project, sandbox.env, ["--stack", def.stack, ...args]);
}
async function ok(def: StackDef, ...args: string[]): Promise<string> {
  const r = await pulumi(def, ...args);
  expect(r.code, `pulumi ${args.join(" ")} (${def.stack}):\n${r.out}`).toBe(0);
  return r.stdout;
}
/** A command as README shows it, typed in `cwd` (a folder of the project), with `def`'s stack selected. */
async function typed(def: StackDef, command: string, options: { cwd?: string; input?: string; netns?: string } = {}): Promise<string> {
  const select = await pulumiCli(project, sandbox.env, ["stack", "select", def.stack]);
  expect(select.code, select.out).toBe(0);
  const r = await runShell(command, {
    cwd: options.cwd ?? project,
    env: userShellEnv(sandbox.env),
    input: options.input,
    netns: options.netns,
    timeoutMs: 800_000,
  });
  expect(r.code, r.out).toBe(0);
  return r.stdout;
}
async function outputs(def: StackDef): Promise<Record<string, any>> {
  return JSON.parse(await ok(def, "stack", "output", "--json"));
}

/** ssh into a VM the way a user does: the stack's ssh_config (which names its known_hosts file), strict host keys. */
function sshVm(def: StackDef, vm: string, command: string[], extra: string[] = []): string {
  const dir = path.join(sandbox.dir, def.stack);
  return ns("ssh", "-F", path.join(dir, "ssh_config"), "-o", "BatchMode=yes", ...extra, vm, ...command);
}

async function saveSshFiles(def: StackDef): Promise<void> {
  const out = await outputs(def);
  const dir = path.join(sandbox.dir, def.stack);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "ssh_config"), out.sshConfig);
}

/** Domain ids change when a domain restarts: the same id means the VM kept running. */
function domainIds(def: StackDef): Record<string, string> {
  return Object.fromEntries(
    def.vms.map((vm) => [vm, execFileSync("virsh", ["-c", "qemu:///system", "domid", `${def.cluster}-${vm}`], { encoding: "utf8" }).trim()]),
  );
}

beforeAll(async () => {
  sandbox = engineSandbox("e2e");
  project = path.join(sandbox.dir, "project");
  copyProject(project);
  keyFile = path.join(sandbox.dir, "id_ed25519");
  keyFile2 = path.join(sandbox.dir, "id_ed25519_2");
  caFile = path.join(sandbox.dir, "ca.crt");
  caFile2 = path.join(sandbox.dir, "ca2.crt");
  labCloudConfig = path.join(sandbox.dir, "lab-cloud-config.yaml");
  writeFileSync(labCloudConfig, LAB_CLOUD_CONFIG);
  for (const key of [keyFile, keyFile2]) execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "e2e@test", "-f", key]);
  for (const [ca, cn] of [
    [caFile, "vm-cluster e2e CA"],
    [caFile2, "vm-cluster e2e CA 2"],
  ] as const) {
    writeFileSync(ca, throwawayCa(cn));
  }
  mirror = await startTestImageMirror(path.join(sandbox.dir, "mirror"), lv.netns(), MIRROR_PORT);
  // libvirt's network driver makes its own LIBVIRT_* iptables chains when a first network starts and
  // keeps them for good (on a real host its default network has made them long ago). Let it do that
  // before the snapshot, with a scratch network, so the comparison is strict about what we do.
  const scratch = path.join(sandbox.dir, "scratch-net.xml");
  writeFileSync(
    scratch,
    buildNetworkXml({
      name: "vmc-e2e-scratch",
      bridge: { name: "vmce2escratch" },
      ip: { address: "10.231.49.1", netmask: "255.255.255.0", dhcp: { range: { start: "10.231.49.2", end: "10.231.49.254" }, hosts: [] } },
    }),
  );
  virshRun("net-create", scratch);
  virshRun("net-destroy", "vmc-e2e-scratch");
  before = hostSnapshot();
  for (const def of [A, B]) {
    writeStackFile(def);
    const init = await pulumiCli(project, sandbox.env, ["stack", "init", def.stack]);
    expect(init.code, init.out).toBe(0);
  }
}, 900_000);

afterAll(async () => {
  // Whatever a failed test left up is destroyed; the snapshot test below checks the same.
  for (const def of [A, B]) if (upStacks.has(def.stack)) await pulumi(def, "destroy", "--yes");
  mirror?.stop();
  sandbox?.cleanup();
}, 900_000);

describe("a 3-VM cluster", () => {
  it("comes up SSH-ready with `pulumi up`", async () => {
    upStacks.add(A.stack);
    const started = Date.now();
    await typed(A, readmeCommand("pulumi up"));
    console.log(`e2e: up of ${A.vms.length} VMs to all-ready took ${((Date.now() - started) / 1000).toFixed(0)} s`);
    await saveSshFiles(A);
  }, 900_000);

  it("answers SSH with the stack's own ssh_config and known_hosts: hostname, python3, CA, no passwords", () => {
    const caPem = readFileSync(caFile, "utf8").trim();
    for (const vm of A.vms) {
      expect(sshVm(A, vm, ["hostname"]).trim()).toBe(vm);
      // ssh hands the remote shell one command line: quote as a user would.
      expect(sshVm(A, vm, ["python3 -c 'print(6*7)'"]).trim()).toBe("42");
      expect(sshVm(A, vm, ["cat", `/etc/ssl/certs/${A.cluster}.pem`]).trim()).toBe(caPem);
      // Trusted as TLS clients look it up: by its subject hash in the directory, and in the bundle.
      const pem = `/etc/ssl/certs/${A.cluster}.pem`;
      expect(sshVm(A, vm, [`openssl verify -CApath /etc/ssl/certs ${pem} && openssl verify -CAfile /etc/ssl/certs/ca-certificates.crt ${pem}`])).toBe(
        `${pem}: OK\n${pem}: OK\n`,
      );
    }
    // Password login is refused: the server offers no password method at all.
    let refused = "";
    try {
      sshVm(A, "boreas", ["true"], ["-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password,keyboard-interactive"]);
    } catch (err) {
      refused = String((err as { stderr?: string }).stderr ?? err);
    }
    expect(refused).toMatch(/Permission denied \(publickey\)/);
    // sshd's effective settings, as vm-cluster sets them whatever the image says (issue 19).
    const effective = sshVm(A, "boreas", ["sshd -T | grep -Ei '^(permitrootlogin|passwordauthentication|kbdinteractiveauthentication) '"]);
    expect(effective.trim().split("\n").sort()).toEqual(["kbdinteractiveauthentication no", "passwordauthentication no", "permitrootlogin without-password"]);
  });

  it("hands off as README's \"After pulumi up\" shows: files to ssh in with, the route, each VM's commands, the console password", async () => {
    const cwd = path.join(project, "handoff");
    mkdirSync(cwd);
    await typed(A, readmeCommand("pulumi stack output sshConfig > anemoi.ssh_config"), { cwd });
    // The same lines as the known_hosts file the stack keeps, which ssh_config names by its absolute path.
    const knownHostsFile = path.join(project, ".vm-cluster", A.stack, `${A.cluster}.known_hosts`);
    expect((await typed(A, readmeCommand("pulumi stack output knownHosts"))).trim()).toBe(readFileSync(knownHostsFile, "utf8").trim());
    expect(readFileSync(path.join(cwd, "anemoi.ssh_config"), "utf8")).toContain(`UserKnownHostsFile ${knownHostsFile}\n`);
    // No command given: the login shell reads one from standard input, as from a user's keyboard.
    const login = await typed(A, readmeCommand("ssh -F anemoi.ssh_config boreas"), { cwd, netns: lv.netns(), input: "hostname\n" });
    expect(login.split("\n")).toContain("boreas");
    await typed(A, readmeCommand("pulumi stack output inventory > inventory.ini"), { cwd });
    const inventory = JSON.parse(execFileSync("ansible-inventory", ["-i", path.join(cwd, "inventory.ini"), "--list"], { encoding: "utf8" }));
    expect(inventory[A.cluster].hosts.sort()).toEqual([...A.vms].sort());
    expect(inventory._meta.hostvars.boreas.ansible_host).toBe(`10.231.${A.subnet}.10`);
    // From another folder: the inventory names the known_hosts file and the key by absolute paths.
    const elsewhere = path.join(sandbox.dir, "elsewhere");
    mkdirSync(elsewhere);
    const ping = execFileSync("ip", ["netns", "exec", lv.netns(), "ansible", "-i", path.join(cwd, "inventory.ini"), "all", "-m", "ping", "-o"], {
      cwd: elsewhere,
      encoding: "utf8",
      env: { ...process.env, ANSIBLE_HOST_KEY_CHECKING: "True", ANSIBLE_NOCOLOR: "1" },
    });
    for (const vm of A.vms) expect(ping).toMatch(new RegExp(`^${vm} \\| SUCCESS`, "m"));
    expect(
      execFileSync("ip", ["netns", "exec", lv.netns(), "ssh", "-F", path.join(cwd, "anemoi.ssh_config"), "-o", "BatchMode=yes", "zephyrus", "hostname"], {
        cwd: elsewhere,
        encoding: "utf8",
      }).trim(),
    ).toBe("zephyrus");
    const route = (await typed(A, readmeCommand("pulumi stack output route"))).trim();
    expect(route).toMatch(new RegExp(`^ip route add 10\\.231\\.${A.subnet}\\.0/24 via \\S+$`));
    const vms = JSON.parse(await typed(A, readmeCommand("pulumi stack output vms")));
    expect(vms.boreas).toMatchObject({
      ip: `10.231.${A.subnet}.10`,
      domain: `${A.cluster}-boreas`,
      console: `virsh -c qemu:///system console ${A.cluster}-boreas`,
    });
    expect(vms.boreas.ssh).toBe(`ssh -i ${keyFile} root@10.231.${A.subnet}.10`);
    const password = (await typed(A, readmeCommand("pulumi stack output consolePassword --show-secrets"))).trim();
    expect(password).toMatch(/^[2-9a-zA-Z]{20}$/);
  }, 300_000);

  it("is a Kubernetes lab: kubespray's groups in both inventories, and each VM resolves the others by short name and FQDN", async () => {
    const cwd = path.join(project, "handoff");
    await typed(A, readmeCommand("pulumi stack output inventoryYaml > inventory.yaml"), { cwd });
    // Ansible's own view of the groups, from the INI and the YAML inventory alike (hosts in config order).
    const expected = ["@k8s_cluster:", "  |--@kube_control_plane:", "  |  |--boreas", "  |--@kube_node:", "  |  |--zephyrus", "  |  |--notus"];
    for (const file of ["inventory.ini", "inventory.yaml"]) {
      const graph = execFileSync("ansible-inventory", ["-i", path.join(cwd, file), "--graph", "k8s_cluster"], { encoding: "utf8" });
      expect(graph.trimEnd().split("\n"), file).toEqual(expected);
      const etcd = execFileSync("ansible-inventory", ["-i", path.join(cwd, file), "--graph", "etcd"], { encoding: "utf8" });
      expect(etcd.trimEnd().split("\n"), file).toEqual(["@etcd:", "  |--boreas"]);
    }
    const whole = await typed(A, readmeCommand("ansible-inventory -i inventory.ini --graph"), { cwd });
    for (const line of ["  |--@anemoi:", "  |--@k8s_cluster:", "  |  |--@kube_control_plane:", "  |--@etcd:"]) expect(whole.split("\n")).toContain(line);
    const net = `10.231.${A.subnet}`;
    for (const vm of A.vms) {
      expect(sshVm(A, vm, ["hostname", "-f"]).trim()).toBe(`${vm}.anemoi.internal`);
      for (const peer of A.vms.filter((p) => p !== vm)) {
        const ip = `${net}.${10 + VM_NAMES.indexOf(peer)}`;
        for (const name of [peer, `${peer}.anemoi.internal`]) {
          expect(sshVm(A, vm, ["getent", "hosts", name]).trim().split(/\s+/)[0], `${name} from ${vm}`).toBe(ip);
        }
      }
    }
    // The ssh_config knows each VM by its FQDN as well, as README shows it.
    const login = await typed(A, readmeCommand("ssh -F anemoi.ssh_config boreas.anemoi.internal"), { cwd, netns: lv.netns(), input: "hostname\n" });
    expect(login.split("\n")).toContain("boreas");
    // zephyrus' data disk: raw, unformatted, at its by-id path, of its size.
    expect(sshVm(A, "zephyrus", ["lsblk -bndo SIZE,FSTYPE $(readlink -f /dev/disk/by-id/virtio-ceph)"]).trim()).toBe(String(1024 ** 3));
    // notus' own cloud-config ran before up returned: its file (mode kept), its user, its runcmd's marker.
    expect(sshVm(A, "notus", ["stat -c %a /etc/lab/role; getent passwd ops | cut -d: -f7; cat /root/runcmd-marker"]).trim().split("\n")).toEqual([
      "640",
      "/bin/bash",
      "worker",
    ]);
    expect(sshVm(A, "boreas", ["test -e /root/runcmd-marker || echo none"]).trim()).toBe("none");
  }, 300_000);

  it("lets root log in on the serial console with the generated password, and not with another", async () => {
    const password = JSON.parse(await ok(A, "stack", "output", "--json", "--show-secrets")).consolePassword as string;
    const console = readmeCommand("virsh -c qemu:///system console <cluster>-<vm>", { "<cluster>-<vm>": `${A.cluster}-zephyrus` });
    expect(await consoleLogin(console, "root", `${password}x`)).toMatchObject({ loggedIn: false, detached: true });
    const session = await consoleLogin(console, "root", password, "hostname");
    expect(session.loggedIn, session.transcript).toBe(true);
    expect(session.detached, session.transcript).toBe(true);
    expect(session.output.split(/\r?\n/), session.transcript).toContain("zephyrus");
  }, 300_000);

  it("has nothing to change on a second up, a preview or a refresh", async () => {
    expect(await ok(A, "up", "--yes", "--expect-no-changes")).toMatch(/unchanged/);
    await ok(A, "preview", "--expect-no-changes");
    await ok(A, "refresh", "--yes", "--expect-no-changes");
  }, 600_000);

  it("ends readiness's wait at its deadline when cloud-init hangs in a guest (issue 19)", async () => {
    // The readiness inputs of boreas as the engine keeps them, secrets revealed.
    const deployment = JSON.parse(await ok(A, "stack", "export", "--show-secrets")).deployment as { resources: { urn: string; inputs?: unknown }[] };
    const reveal = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(reveal)
        : v && typeof v === "object"
          ? "plaintext" in v
            ? JSON.parse(String((v as { plaintext: unknown }).plaintext))
            : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, reveal(x)]))
          : v;
    const ready = deployment.resources.find((r) => r.urn.endsWith("::anemoi-boreas-ready"));
    expect(ready, "boreas's readiness in the stack").toBeDefined();
    const inputs = reveal(ready!.inputs) as ReadinessInputs;
    // A guest whose cloud-init never finishes: `cloud-init status --wait` hangs.
    sshVm(A, "boreas", [
      "mv /usr/bin/cloud-init /usr/bin/cloud-init.real && printf '#!/bin/sh\\nexec sleep 600\\n' >/usr/bin/cloud-init && chmod 0755 /usr/bin/cloud-init",
    ]);
    try {
      const started = Date.now();
      await expect(readinessProvider.create({ ...inputs, timeoutSeconds: 15 })).rejects.toThrow(
        /VM boreas \(domain anemoi-boreas\) was not ready within 15 s: cloud-init had not finished/,
      );
      expect(Date.now() - started).toBeLessThan(60_000);
    } finally {
      sshVm(A, "boreas", ["mv /usr/bin/cloud-init.real /usr/bin/cloud-init"]);
    }
  }, 120_000);

  it("refuses in preview a VM larger than its host, naming the key, and changes nothing (issue 19)", async () => {
    const ids = domainIds(A);
    writeStackFile({ ...A, vmExtra: { ...A.vmExtra, boreas: { vcpus: 100000 } } });
    try {
      const r = await pulumi(A, "preview");
      expect(r.code, r.out).not.toBe(0);
      expect(r.out).toMatch(
        /anemoi-boreas asks for 100000 vCPUs \(vm-cluster:vms\[\]\.vcpus of anemoi-boreas, or defaults\.vcpus\) and libvirt on the VM host allows at most \d+ per VM \(virsh maxvcpus\)/,
      );
      expect(r.out).not.toMatch(/undefined/);
    } finally {
      writeStackFile(A);
    }
    expect(domainIds(A)).toEqual(ids);
  }, 300_000);

  it("applies day-2 changes to the running cluster (sizes, address, key, CA, password, cloud-init, bridge, LAN), restarting only the VMs that need it", async () => {
    const GiB = 1024 ** 3;
    const guest = (vm: string) => {
      const [disk, root, memKiB, cpus] = sshVm(A, vm, [
        "lsblk -bndo SIZE /dev/vda; df -B1 --output=size / | tail -1; awk '/^MemTotal/ {print $2}' /proc/meminfo; nproc",
      ])
        .trim()
        .split("\n")
        .map(Number);
      return { disk: disk!, root: root!, memKiB: memKiB!, cpus: cpus! };
    };
    const before = Object.fromEntries(A.vms.map((vm) => [vm, guest(vm)]));
    const ids = domainIds(A);
    const net = `10.231.${A.subnet}`;
    const changed: StackDef = {
      ...A,
      extra: {
        "vm-cluster:defaults": { disk: "4G", memoryMiB: 384, vcpus: 1 },
        "vm-cluster:sshPublicKey": { file: `${keyFile2}.pub` },
        "vm-cluster:caCertificate": { file: caFile2 },
        "vm-cluster:consolePassword": false,
        "vm-cluster:disableCloudInitAfterBoot": true,
        "vm-cluster:network": { cidr: `${net}.0/24`, gateway: `${net}.1`, dhcpStart: `${net}.2`, dhcpEnd: `${net}.254`, bridge: "vmce2ebr41" },
        "vm-cluster:lan": { interface: "lan1", subnet: "10.231.200.0/24" },
      },
      vmExtra: { boreas: { memoryMiB: 512, vcpus: 2 }, notus: { ip: `${net}.22` } },
    };
    writeStackFile(changed);
    // Preview says which VMs restart, and why; nothing is replaced.
    const diff = await typed(changed, readmeCommand("pulumi preview --diff"));
    expect(diff).toContain("graceful shutdown and start of anemoi-boreas: memoryMiB 384 → 512, vcpus 1 → 2");
    expect(diff).not.toContain("graceful shutdown and start of anemoi-zephyrus");
    const steps = JSON.parse(await ok(changed, "preview", "--json")).steps as { op: string; urn: string; newState?: { inputs?: Record<string, unknown> } }[];
    const restartOf = (vm: string) => steps.find((s) => s.urn.endsWith(`::anemoi-${vm}-domain`))?.newState?.inputs?.restart ?? "";
    expect(restartOf("boreas")).toBe("graceful shutdown and start of anemoi-boreas: memoryMiB 384 → 512, vcpus 1 → 2");
    expect(restartOf("notus")).toBe(`graceful shutdown and start of anemoi-notus: lease ${net}.12/24 via ${net}.1 → ${net}.22/24 via ${net}.1`);
    expect(restartOf("zephyrus")).toBe("");
    expect(steps.filter((s) => /replace/.test(s.op) && /:(Disk|Domain)::/.test(s.urn)).map((s) => s.urn)).toEqual([]);
    expect(steps.some((s) => /replace/.test(s.op) && s.urn.endsWith("::anemoi-network"))).toBe(true);

    await typed(changed, readmeCommand("pulumi up --yes"));
    Object.assign(A, { extra: changed.extra, vmExtra: changed.vmExtra });
    await saveSshFiles(A);
    const after = Object.fromEntries(A.vms.map((vm) => [vm, guest(vm)]));
    for (const vm of A.vms) {
      expect(after[vm]!.disk, vm).toBe(4 * GiB);
      // The root partition and file system grew with the disk, without a reboot for zephyrus.
      expect(after[vm]!.root - before[vm]!.root, vm).toBeGreaterThan(0.9 * GiB);
      expect(sshVm(A, vm, ["cat", `/etc/ssl/certs/${A.cluster}.pem`]).trim(), vm).toBe(readFileSync(caFile2, "utf8").trim());
    }
    for (const vm of A.vms) {
      // Password locked again (no console password), cloud-init off for later boots.
      expect(sshVm(A, vm, ["passwd -S root | cut -d' ' -f2; test -e /etc/cloud/cloud-init.disabled && echo disabled"]).trim().split("\n"), vm).toEqual([
        "L",
        "disabled",
      ]);
    }
    // The network is on its new bridge, the VMs on it, the forwarding rules on the new LAN interface.
    expect(ns("ip", "-o", "link", "show", "master", "vmce2ebr41").split("\n").filter(Boolean)).toHaveLength(A.vms.length);
    expect(ns("ip", "-o", "link").includes("vmc-anemoi:")).toBe(false);
    const rules = ns("iptables-save")
      .split("\n")
      .filter((l) => l.includes("vm-cluster:anemoi"));
    expect(rules.some((l) => / -[io] lan1 /.test(l))).toBe(true);
    expect(rules.filter((l) => / -[io] lan0 /.test(l))).toEqual([]);
    expect(after.boreas!.cpus).toBe(2);
    expect(after.boreas!.memKiB - before.boreas!.memKiB).toBeGreaterThan(100 * 1024);
    expect(after.zephyrus).toMatchObject({ cpus: 1, memKiB: before.zephyrus!.memKiB });
    expect(sshVm(A, "notus", ["hostname", "-I"]).trim().split(/\s+/)).toContain(`${net}.22`);
    const idsAfter = domainIds(A);
    expect(idsAfter.zephyrus).toBe(ids.zephyrus);
    expect(idsAfter.boreas).not.toBe(ids.boreas);
    expect(idsAfter.notus).not.toBe(ids.notus);
    // root's authorized keys are the new key's (and the provisioner's): the old key is refused.
    const knownHostsFile = path.join(project, ".vm-cluster", A.stack, `${A.cluster}.known_hosts`);
    expect(readFileSync(knownHostsFile, "utf8")).toContain(`${net}.22,notus,notus.anemoi.internal `);
    let refused = "";
    try {
      ns(
        "ssh",
        "-F",
        "/dev/null",
        "-o",
        "BatchMode=yes",
        "-o",
        "IdentitiesOnly=yes",
        "-i",
        keyFile,
        "-o",
        `UserKnownHostsFile=${knownHostsFile}`,
        "-o",
        "StrictHostKeyChecking=yes",
        `root@${net}.11`,
        "true",
      );
    } catch (err) {
      refused = String((err as { stderr?: string }).stderr ?? err);
    }
    expect(refused).toMatch(/Permission denied \(publickey\)/);
    expect(await ok(A, "up", "--yes", "--expect-no-changes")).toMatch(/unchanged/);
  }, 900_000);

  it("hot-plugs a second data disk into a running VM: preview says no restart, the domain keeps running, the others untouched", async () => {
    const ids = domainIds(A);
    const changed: StackDef = {
      ...A,
      vmExtra: {
        ...A.vmExtra,
        zephyrus: {
          dataDisks: [
            { name: "ceph", size: "1G" },
            { name: "osd", size: "1G" },
          ],
        },
      },
    };
    writeStackFile(changed);
    const steps = JSON.parse(await ok(changed, "preview", "--json")).steps as { op: string; urn: string; newState?: { inputs?: Record<string, unknown> } }[];
    const touched = steps
      .filter((s) => s.op !== "same")
      .map((s) => `${s.op} ${s.urn.split("::").pop()}`)
      .sort();
    // The settings wait for the guest to show the new disk.
    expect(touched).toEqual(["create anemoi-zephyrus-data_osd", "update anemoi-zephyrus-domain", "update anemoi-zephyrus-settings"]);
    expect(steps.find((s) => s.urn.endsWith("::anemoi-zephyrus-domain"))?.newState?.inputs?.restart).toBe("");
    await typed(changed, readmeCommand("pulumi up --yes"));
    A.vmExtra = changed.vmExtra;
    expect(sshVm(A, "zephyrus", ["lsblk -bndo SIZE $(readlink -f /dev/disk/by-id/virtio-osd)"]).trim()).toBe(String(1024 ** 3));
    expect(domainIds(A)).toEqual(ids);
    expect(await ok(A, "up", "--yes", "--expect-no-changes")).toMatch(/unchanged/);
  }, 600_000);

  it("keeps a worker shut down with running: false, preview saying so, and starts it again", async () => {
    const ids = domainIds(A);
    const stopped: StackDef = { ...A, vmExtra: { ...A.vmExtra, notus: { ...A.vmExtra?.notus, running: false } } };
    writeStackFile(stopped);
    const steps = JSON.parse(await ok(stopped, "preview", "--json")).steps as { op: string; urn: string; newState?: { inputs?: Record<string, unknown> } }[];
    expect(steps.find((s) => s.urn.endsWith("::anemoi-notus-domain"))?.newState?.inputs?.restart).toBe(
      "graceful shutdown of anemoi-notus: running true → false",
    );
    const others = steps.filter((s) => s.op !== "same" && !s.urn.includes("-notus-")).map((s) => s.urn.split("::").pop());
    expect(others).toEqual([]);
    await ok(stopped, "up", "--yes");
    const state = (vm: string) => execFileSync("virsh", ["-c", "qemu:///system", "domstate", `anemoi-${vm}`], { encoding: "utf8" }).trim();
    expect(state("notus")).toBe("shut off");
    expect(await ok(stopped, "up", "--yes", "--expect-no-changes")).toMatch(/unchanged/);
    writeStackFile(A);
    await ok(A, "up", "--yes");
    expect(state("notus")).toBe("running");
    expect(sshVm(A, "notus", ["hostname"]).trim()).toBe("notus");
    const after = domainIds(A);
    expect({ boreas: after.boreas, zephyrus: after.zephyrus }).toEqual({ boreas: ids.boreas, zephyrus: ids.zephyrus });
    expect(await ok(A, "up", "--yes", "--expect-no-changes")).toMatch(/unchanged/);
  }, 600_000);

  it("keeps a running VM as its first boot made it when its cloud-config changes, and resets it to a fresh first boot as README shows", async () => {
    const ids = domainIds(A);
    const changed: StackDef = {
      ...A,
      vmExtra: { ...A.vmExtra, notus: { ...A.vmExtra?.notus, cloudConfig: { inline: { runcmd: ["echo second > /root/second-marker"] } } } },
    };
    writeStackFile(changed);
    const steps = JSON.parse(await ok(changed, "preview", "--json")).steps as { op: string; urn: string }[];
    const touched = [...new Set(steps.filter((s) => s.op !== "same").map((s) => s.urn.split("::").pop()))];
    expect(touched).toEqual(["anemoi-notus-seed"]);
    // The warning names the command that gives notus a new first boot.
    const preview = await ok(changed, "preview");
    const reset = /pulumi up --replace '(urn:pulumi:[^']+::anemoi-notus-disk)'/.exec(preview.replace(/\s*\n\s*/g, " "));
    expect(preview).toContain("the cloud-config of notus changed");
    expect(reset, preview).not.toBeNull();
    sshVm(A, "notus", ["echo kept > /root/old-data"]);
    await ok(changed, "up", "--yes");
    A.vmExtra = changed.vmExtra;
    expect(domainIds(A)).toEqual(ids);
    expect(sshVm(A, "notus", ["cat /root/runcmd-marker; echo; cat /root/old-data; test -e /root/second-marker || echo no-second"]).trim().split("\n")).toEqual([
      "worker",
      "kept",
      "no-second",
    ]);
    // README's way: the disk's URN from the stack's list, then up replacing it.
    const urns = await typed(A, readmeCommand("pulumi stack --show-urns"));
    expect(urns).toContain(reset![1]);
    await typed(A, readmeCommand("pulumi up --replace '<disk-urn>'", { "<disk-urn>": reset![1]! }));
    const after = domainIds(A);
    expect({ boreas: after.boreas, zephyrus: after.zephyrus }).toEqual({ boreas: ids.boreas, zephyrus: ids.zephyrus });
    expect(after.notus).not.toBe(ids.notus);
    // A fresh first boot with the new cloud-config, the same name and host key (ssh checks it strictly).
    expect(
      sshVm(A, "notus", ["hostname; cat /root/second-marker; for f in /root/old-data /root/runcmd-marker /etc/lab; do test -e $f || echo gone; done"])
        .trim()
        .split("\n"),
    ).toEqual(["notus", "second", "gone", "gone", "gone"]);
    expect(await ok(A, "up", "--yes", "--expect-no-changes")).toMatch(/unchanged/);
  }, 900_000);

  it("shows in preview what a new image or a new MAC would replace", async () => {
    const replaced = async (def: StackDef) => {
      writeStackFile(def);
      const steps = JSON.parse(await ok(def, "preview", "--json")).steps as { op: string; urn: string }[];
      return [...new Set(steps.filter((s) => /replace/.test(s.op)).map((s) => s.urn.split("::").pop()!))].sort();
    };
    const image = { "vm-cluster:image": { url: `${mirror!.url}test-image-v2.qcow2`, checksumsUrl: mirror!.checksumsUrl } };
    const byImage = await replaced({ ...A, extra: { ...A.extra, ...image } });
    for (const vm of A.vms) for (const part of ["disk", "domain"]) expect(byImage, vm).toContain(`anemoi-${vm}-${part}`);
    expect(byImage).toContain("anemoi-base-image");
    const byMac = await replaced({ ...A, vmExtra: { ...A.vmExtra, zephyrus: { mac: "52:54:00:0e:2e:01" } } });
    expect(byMac.filter((n) => /-(disk|domain)$/.test(n))).toEqual(["anemoi-zephyrus-disk", "anemoi-zephyrus-domain"]);
    writeStackFile(A);
    await ok(A, "preview", "--expect-no-changes");
  }, 300_000);

  it("removes one VM and adds another, leaving the others running", async () => {
    const ids = domainIds({ ...A, vms: ["boreas", "zephyrus"] });
    const changed: StackDef = { ...A, vms: ["boreas", "zephyrus", "eurus"] };
    writeStackFile(changed);
    const preview = JSON.parse(await ok(changed, "preview", "--json"));
    const touched = (preview.steps as { op: string; urn: string }[])
      .filter((s) => s.op !== "same")
      .map((s) => `${s.op} ${s.urn.split("::").pop()}`)
      .sort();
    // Only notus' and eurus' resources, the network's reservations (updated in place) and the known_hosts file.
    for (const step of touched) expect(step).toMatch(/(notus|eurus)|^update anemoi-(network|known-hosts)$/);
    expect(touched).toContain("update anemoi-network");
    expect(touched).toContain("delete anemoi-notus-domain");
    expect(touched).toContain("create anemoi-eurus-domain");
    await typed(changed, readmeCommand("pulumi up --yes"));
    A.vms = changed.vms;
    await saveSshFiles(A);
    expect(sshVm(A, "eurus", ["hostname"]).trim()).toBe("eurus");
    expect(domainIds({ ...A, vms: ["boreas", "zephyrus"] })).toEqual(ids);
    expect(execFileSync("virsh", ["-c", "qemu:///system", "list", "--all", "--name"], { encoding: "utf8" })).not.toContain("anemoi-notus");
  }, 900_000);
});

describe("a second cluster on the same host", () => {
  it("comes up beside the first without collision", async () => {
    upStacks.add(B.stack);
    await ok(B, "up", "--yes");
    await saveSshFiles(B);
    expect(sshVm(B, "boreas", ["hostname"]).trim()).toBe("boreas");
    expect(sshVm(A, "boreas", ["hostname"]).trim()).toBe("boreas");
    const a = await outputs(A);
    const b = await outputs(B);
    expect(a.vms.boreas.ip).not.toBe(b.vms.boreas.ip);
    expect(a.vms.boreas.domain).not.toBe(b.vms.boreas.domain);
  }, 900_000);
});

describe("destroy", () => {
  it("of both stacks leaves the host as it found it", async () => {
    await typed(B, readmeCommand("pulumi destroy --yes"));
    upStacks.delete(B.stack);
    await typed(A, readmeCommand("pulumi destroy"));
    upStacks.delete(A.stack);
    expect(hostSnapshot()).toBe(before);
    // The stacks' known_hosts files, and the folders made for them, are gone too.
    for (const def of [A, B]) expect(existsSync(path.join(project, ".vm-cluster", def.stack)), def.stack).toBe(false);
    expect(existsSync(path.join(project, ".vm-cluster"))).toBe(false);
  }, 900_000);
});
