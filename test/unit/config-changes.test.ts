// Every config key's "On change" (the configuration reference's column, from the schema) checked
// against what the providers' own check and diff say for a change of that key on a running
// cluster: the anemoi stack is built twice under mocks, before and after the change, and each
// resource's diff is asked as the engine asks it, including the replacements that follow a
// delete-before-replace (the engine asks the dependents again with those inputs unknown).
import type * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { loadClusterModel } from "../../components";
import { consolePasswordProvider } from "../../secrets/console-password";
import { sshKeyPairProvider } from "../../secrets/ssh-key-pair";
import { guestSettingsProvider } from "../../guest/guest-settings";
import { readinessProvider } from "../../guest/readiness";
import {
  PACKAGES,
  clusterRules,
  describeRule,
  firewallBackendProvider,
  firewallRulesProvider,
  hostPackagesProvider,
  peerRoutesProvider,
  describeRoute,
  type PeerRoutesInputs,
  ipForwardProvider,
  libvirtDaemonProvider,
  virtualizationCheckProvider,
  type FirewallRulesInputs,
} from "../../host";
import { baseImageProvider } from "../../libvirt/base-image";
import { diskProvider } from "../../libvirt/disk";
import { domainProvider } from "../../libvirt/domain";
import { natNetworkProvider } from "../../libvirt/network";
import { storagePoolProvider } from "../../libvirt/pool";
import { UNKNOWN } from "../../provider/unknown";
import { seedDigest, seedProvider } from "../../libvirt/seed";
import type { ClusterModel } from "../../model";
import { ON_CHANGE, type OnChange } from "../../model/on-change";
import { configRows } from "../../tools/config-reference";
import { CA_PEM, ED25519_FINGERPRINT, FILES, HOME, PRIVATE_KEY_TEXT, ed25519Line, fakeIo } from "./fixtures/cluster-config";
import { anemoiConfig, buildCluster, resolve } from "./fixtures/mock-cluster";

type Provider = pulumi.dynamic.ResourceProvider<any, any>;
type Props = Record<string, unknown>;

const PROVIDERS: Record<string, Provider> = {
  VirtualizationCheck: virtualizationCheckProvider,
  HostPackages: hostPackagesProvider,
  LibvirtDaemon: libvirtDaemonProvider,
  IpForward: ipForwardProvider,
  FirewallBackend: firewallBackendProvider,
  FirewallRules: firewallRulesProvider,
  StoragePool: storagePoolProvider,
  NatNetwork: natNetworkProvider,
  BaseImage: baseImageProvider,
  Disk: diskProvider,
  Seed: seedProvider,
  Domain: domainProvider,
  Readiness: readinessProvider,
  GuestSettings: guestSettingsProvider,
  SshKeyPair: sshKeyPairProvider,
  ConsolePassword: consolePasswordProvider,
  PeerRoutes: peerRoutesProvider,
  // Not KnownHostsFile: its diff also reads the file on this machine, which no config change touches.
};

/** The state a healthy, freshly made resource has: its checked inputs and what its provider adds. */
async function stateOf(kind: string, given: Props): Promise<Props> {
  const inputs = await checked(kind, {}, given);
  switch (kind) {
    case "VirtualizationCheck":
      return { ...inputs, kvmUsable: true };
    case "HostPackages":
      return { ...inputs, family: "debian", packages: [...PACKAGES.debian], missing: [] };
    case "LibvirtDaemon":
      return { ...inputs, manager: "none", running: true, enabled: false };
    case "IpForward":
      return { ...inputs, value: "1", persisted: true, registered: true };
    case "FirewallBackend":
      return { ...inputs, supported: false };
    case "FirewallRules":
      return { ...inputs, rules: clusterRules(inputs as unknown as FirewallRulesInputs).map(describeRule) };
    case "PeerRoutes": {
      const routes = inputs as unknown as PeerRoutesInputs;
      return { ...inputs, present: routes.routes.map((route) => describeRoute(route, routes.lanInterface)) };
    }
    case "StoragePool":
      return { ...inputs, createdDir: true, active: true, autostart: true };
    case "NatNetwork":
      return { ...inputs, active: true, autostart: true, plugged: true };
    case "Seed":
      return { ...inputs, digest: seedDigest(inputs as never) };
    case "Domain":
      return { ...inputs, running: true, startedAt: "2026-12-01T00:00:00.000Z" };
    default:
      return inputs;
  }
}

async function checked(kind: string, olds: Props, news: Props): Promise<Props> {
  const check = PROVIDERS[kind]!.check;
  return check ? ((await check(olds, news)).inputs as Props) : news;
}

interface Built {
  model: ClusterModel;
  /** By resource name: kind, resolved inputs, and which resources each input comes from. */
  resources: Map<string, { kind: string; inputs: Props; sources: Map<string, Set<string>> }>;
}

const BUNDLE = `${HOME}/bundle.crt`;
const CLOUD_CONFIG = `${HOME}/lab.yaml`;
const CHANGE_FILES = { ...FILES, [BUNDLE]: CA_PEM + CA_PEM, [CLOUD_CONFIG]: "#cloud-config\npackages: [chrony]\n" };
const RUNCMD = { runcmd: ["modprobe overlay"] };

async function build(config: Record<string, unknown>, io = fakeIo(CHANGE_FILES)): Promise<Built> {
  // As `pulumi.runtime.allConfig()` hands it over: structured values as JSON text.
  const raw = Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === "object" ? JSON.stringify(v) : String(v)]));
  const model = loadClusterModel(raw, io);
  const { resources } = await buildCluster(model);
  const out: Built["resources"] = new Map();
  for (const rec of resources.values()) {
    const kind = rec.type.split(":").pop()!;
    if (!(kind in PROVIDERS)) continue;
    const inputs: Props = {};
    for (const [key, value] of Object.entries(rec.props)) {
      const resolved = await resolve(value as pulumi.Input<unknown>);
      if (resolved !== undefined) inputs[key] = resolved;
    }
    out.set(rec.name, { kind, inputs, sources: rec.sources });
  }
  return { model, resources: out };
}

interface Step {
  op: "same" | "update" | "replace" | "create" | "delete";
  /** For a Domain update: why it restarts (empty: it does not). */
  restart?: string;
}

/** What `pulumi up` does to each resource going from `a` to `b`. */
async function plan(a: Built, b: Built): Promise<Map<string, Step>> {
  const steps = new Map<string, Step>();
  const olds = new Map<string, Props>();
  const news = new Map<string, Props>();
  const deleteFirst = new Set<string>();
  for (const name of a.resources.keys()) if (!b.resources.has(name)) steps.set(name, { op: "delete" });
  for (const [name, r] of b.resources) {
    const before = a.resources.get(name);
    if (!before) {
      steps.set(name, { op: "create" });
      continue;
    }
    const old = await stateOf(r.kind, before.inputs);
    const wanted = await checked(r.kind, before.inputs, r.inputs);
    olds.set(name, old);
    news.set(name, wanted);
    const diff = await PROVIDERS[r.kind]!.diff!(name, old, wanted);
    if ((diff.replaces ?? []).length > 0) {
      steps.set(name, { op: "replace" });
      if (diff.deleteBeforeReplace) deleteFirst.add(name);
    } else {
      steps.set(name, diff.changes ? { op: "update", ...(r.kind === "Domain" && { restart: String(wanted.restart ?? "") }) } : { op: "same" });
    }
  }
  // Delete-before-replace: the dependents whose diff needs a replacement once those inputs are unknown go too.
  for (let grew = true; grew;) {
    grew = false;
    for (const [name, r] of b.resources) {
      const step = steps.get(name)!;
      if (step.op === "replace" || step.op === "create") continue;
      const unknown = { ...news.get(name)! };
      let touched = false;
      for (const [key, from] of r.sources) {
        if ([...from].some((source) => deleteFirst.has(source))) {
          unknown[key] = UNKNOWN;
          touched = true;
        }
      }
      if (!touched) continue;
      const diff = await PROVIDERS[r.kind]!.diff!(name, olds.get(name)!, unknown);
      if ((diff.replaces ?? []).length > 0) {
        steps.set(name, { op: "replace" });
        if (diff.deleteBeforeReplace) deleteFirst.add(name);
        grew = true;
      }
    }
  }
  // In preview an updating domain's start time is not known yet (its outputs are its checked
  // inputs): what waits for the guest is asked with it unknown, and its restart reason known.
  for (const [name, r] of b.resources) {
    if (r.kind !== "Readiness" || (steps.get(name)!.op !== "same" && steps.get(name)!.op !== "update")) continue;
    const domain = [...(r.sources.get("domainStartedAt") ?? [])][0]!;
    if (steps.get(domain)?.op !== "update") continue;
    const preview = { ...news.get(name)!, domainStartedAt: UNKNOWN, domainRestart: news.get(domain)!.restart };
    if ((await PROVIDERS.Readiness!.diff!(name, olds.get(name)!, preview)).replaces?.length) steps.set(name, { op: "replace" });
  }
  return steps;
}

/** The VMs a key is about: the first one for a VM's key, the class's VMs for a class's key. */
interface Concerned {
  readonly vms: readonly number[];
  readonly restart: OnChange;
  /** With `hosts`: the host a key is about, and whose VMs are `vms`. */
  readonly site?: string;
}
const FIRST_VM: Concerned = { vms: [0], restart: "restarts this VM" };

/** The reference's wording for a plan: what happens to the network and to the VMs. */
function effect(a: Built, b: Built, steps: Map<string, Step>, concerned: Concerned): string {
  const name = (m: ClusterModel, suffix: string) => `${m.cluster}-${suffix}`;
  const gone = (na: string, nb: string) => na !== nb || ["replace", "delete"].includes(steps.get(na)?.op ?? "");
  // A host's resources: `<cluster>-<host>-...` with `hosts`, `<cluster>-...` for the single host.
  const siteName = (m: ClusterModel, site: string | undefined, suffix: string) => name(m, site === undefined ? suffix : `${site}-${suffix}`);
  const sitesA = a.model.sites.map((site) => site.name);
  const sitesB = b.model.sites.map((site) => site.name);
  if (sitesA.length !== sitesB.length) {
    // Hosts removed: all of theirs goes, nothing of the others changes.
    const removed = sitesA.filter((site) => !sitesB.includes(site));
    const ofRemoved = (n: string) => removed.some((site) => n.startsWith(name(a.model, `${site}-`)));
    const vmsOfRemoved = a.model.vms.filter((vm) => removed.includes(vm.site)).map((vm) => name(a.model, `${vm.name}-`));
    // A host left alone has no other host to route to.
    const ours = (n: string) => ofRemoved(n) || vmsOfRemoved.some((prefix) => n.startsWith(prefix)) || (sitesB.length === 1 && n.endsWith("-routes"));
    const wrong = [...steps].filter(([n, step]) => (ours(n) ? step.op !== "delete" : !["same", "update"].includes(step.op)));
    const networksUpdated = [...steps].filter(([n, step]) => n.endsWith("-network") && step.op === "update").length;
    return wrong.length === 0 && removed.length > 0 && networksUpdated > 0
      ? "adds or removes only those hosts and their VMs"
      : `mixed: ${wrong.map(([n, s]) => `${n} ${s.op}`).join(", ")}`;
  }
  const networksGone = sitesB.filter((site, i) => gone(siteName(a.model, sitesA[i], "network"), siteName(b.model, site, "network")));
  const poolsGone = sitesB.filter((site, i) => gone(siteName(a.model, sitesA[i], "pool"), siteName(b.model, site, "pool")));
  const network = networksGone.length === sitesB.length;
  const pool = poolsGone.length === sitesB.length;
  const both = Math.min(a.model.vms.length, b.model.vms.length);
  const vms = Array.from({ length: both }, (_, i) => {
    const [va, vb] = [a.model.vms[i]!, b.model.vms[i]!];
    const disk = gone(name(a.model, `${va.name}-disk`), name(b.model, `${vb.name}-disk`));
    const domain = gone(name(a.model, `${va.name}-domain`), name(b.model, `${vb.name}-domain`));
    if (disk && !domain) throw new Error(`VM ${i}: the disk is replaced under a domain that stays`);
    const vm = disk ? "replace" : domain ? "recreate" : steps.get(name(b.model, `${vb.name}-domain`))?.restart ? "restart" : "none";
    // Preview shows the wait for the guest again exactly when the VM boots anew.
    const waits = ["replace", "create"].includes(steps.get(name(b.model, `${vb.name}-ready`))?.op ?? "");
    if (waits !== (vm !== "none")) throw new Error(`VM ${i}: ${vm}, but readiness is ${waits ? "" : "not "}replaced`);
    return vm;
  });
  const every = (e: string) => vms.every((v) => v === e);
  const only = (e: string) => vms.every((v, i) => v === (concerned.vms.includes(i) ? e : "none"));
  if (network && pool && every("replace")) return "replaces the whole cluster";
  const parts: string[] = [];
  // One host's network of several: that host's words.
  if (networksGone.length > 0 && !network) {
    const thisOne = networksGone.length === 1 && networksGone[0] === concerned.site;
    if (!thisOne) return `mixed: networks of ${networksGone.join(", ")}`;
    if (poolsGone.length === 1 && poolsGone[0] === concerned.site && only("replace")) return "replaces everything on this host";
    if (only("restart")) return "replaces this host's network, restarts its VMs";
    return every("none") ? "replaces this host's network" : `mixed: ${vms.join(", ")}`;
  }
  if (network) parts.push("replaces the cluster network");
  if (every("replace")) parts.push("replaces every VM");
  else if (only("replace")) parts.push("replaces this VM");
  else if (every("recreate")) parts.push("recreates every VM's domain (disks kept)");
  else if (every("restart")) parts.push("restarts every VM");
  else if (only("restart")) parts.push(concerned.restart);
  else if (!every("none")) parts.push(`mixed: ${vms.join(", ")}`);
  if (parts.length === 0 && a.model.vms.length !== b.model.vms.length) parts.push("adds or removes only those VMs");
  // Data disks come and go beside running VMs, so they are told apart by their own steps.
  const dataDiskOps = new Set([...steps].filter(([n]) => n.includes("-data_")).map(([, step]) => step.op));
  if (parts.length === 0 && dataDiskOps.has("create") && dataDiskOps.has("delete")) parts.push("replaces that data disk (a new, empty one), hot-plugged");
  else if (parts.length === 0 && (dataDiskOps.has("create") || dataDiskOps.has("delete"))) parts.push("adds or removes only those data disks, hot-plugged");
  if (parts.length > 0) return parts.join(", ");
  const changed = [...steps].filter(([, s]) => s.op !== "same");
  // Only seeds rewritten: what the VMs' next first boot reads, nothing a running VM sees.
  if (changed.length > 0 && changed.every(([n]) => n.endsWith("-seed"))) return "next first boot only (running VMs keep theirs)";
  return changed.length > 0 ? "in place" : "nothing on the host";
}

const SSH_HOST = { type: "ssh", host: "vmhost.example", user: "root", privateKey: "~/.ssh/id_ed25519", hostKey: ED25519_FINGERPRINT };
const OTHER_PRIVATE_KEY = PRIVATE_KEY_TEXT.replace("bm9uZQ==", "b3RoZXI=");
const IMAGE = { url: "https://images.example/debian-12.qcow2", sha512: "a".repeat(128) };
type Config = Record<string, any>;
const vm0 = (change: Config) => (c: Config) => ({
  "vm-cluster:vms": c["vm-cluster:vms"].map((vm: Config, i: number) => (i === 0 ? { ...vm, ...change } : vm)),
});
const section = (key: string, change: Config) => (c: Config) => ({ [`vm-cluster:${key}`]: { ...c[`vm-cluster:${key}`], ...change } });

const anemoiVms = (): Config[] => JSON.parse(anemoiConfig()["vm-cluster:vms"]!);
const RAW: Config = { "vm-cluster:vms": anemoiVms() };

/** anemoi with a data disk on its first VM. */
const CEPH: Config = { "vm-cluster:vms": anemoiVms().map((vm, i) => (i === 0 ? { ...vm, dataDisks: [{ name: "ceph", size: "10G" }] } : vm)) };

/** Two of anemoi's four VMs in a class of their own. */
const WORKERS: Config = {
  "vm-cluster:classes": { worker: { memoryMiB: 1024 } },
  "vm-cluster:vms": anemoiVms().map((vm, i) => (i === 1 || i === 3 ? { ...vm, class: "worker" } : vm)),
};
const CLASS_VMS: Concerned = { vms: [1, 3], restart: "restarts the VMs of this class" };

/**
 * One change per key on a running anemoi cluster: the config before (anemoi's, plus `base`), the
 * keys it sets, and which VMs it is about.
 */
const CHANGES: Record<string, { base?: Config; change: (config: Config) => Config; concerns?: Concerned }> = {
  "vm-cluster:cluster": { change: () => ({ "vm-cluster:cluster": "boreal" }) },
  "vm-cluster:host.type": { change: () => ({ "vm-cluster:host": SSH_HOST }) },
  "vm-cluster:host.sudo": { change: () => ({ "vm-cluster:host": { type: "local", sudo: true } }) },
  "vm-cluster:host.netns": { change: () => ({ "vm-cluster:host": { type: "local", netns: "vmc-other" } }) },
  "vm-cluster:host.host": { base: { "vm-cluster:host": SSH_HOST }, change: () => ({ "vm-cluster:host": { ...SSH_HOST, host: "vmhost2.example" } }) },
  "vm-cluster:host.port": { base: { "vm-cluster:host": SSH_HOST }, change: () => ({ "vm-cluster:host": { ...SSH_HOST, port: 2222 } }) },
  "vm-cluster:host.user": { base: { "vm-cluster:host": SSH_HOST }, change: () => ({ "vm-cluster:host": { ...SSH_HOST, user: "admin", sudo: true } }) },
  "vm-cluster:host.privateKey": {
    base: { "vm-cluster:host": SSH_HOST },
    change: () => ({ "vm-cluster:host": { ...SSH_HOST, privateKey: OTHER_PRIVATE_KEY } }),
  },
  "vm-cluster:host.hostKey": {
    base: { "vm-cluster:host": SSH_HOST },
    change: () => ({ "vm-cluster:host": { ...SSH_HOST, hostKey: `SHA256:${"B".repeat(43)}` } }),
  },
  "vm-cluster:lan.interface": { change: section("lan", { interface: "eno2" }) },
  "vm-cluster:lan.subnet": { change: section("lan", { subnet: "172.17.3.0/24" }) },
  "vm-cluster:network.cidr": { change: section("network", { cidr: "172.17.2.0/23" }) },
  "vm-cluster:network.gateway": { change: section("network", { gateway: "172.17.2.254", dhcpEnd: "172.17.2.253" }) },
  "vm-cluster:network.dhcpStart": { change: section("network", { dhcpStart: "172.17.2.6" }) },
  "vm-cluster:network.dhcpEnd": { change: section("network", { dhcpEnd: "172.17.2.200" }) },
  "vm-cluster:network.bridge": { change: section("network", { bridge: "kvmbr1" }) },
  "vm-cluster:network.domain": { change: section("network", { domain: "lab.internal" }) },
  "vm-cluster:vms": { change: (c) => ({ "vm-cluster:vms": c["vm-cluster:vms"].slice(0, -1) }) },
  "vm-cluster:vms[].name": { change: vm0({ name: "borealis" }) },
  "vm-cluster:vms[].ip": { change: vm0({ ip: "172.17.2.20" }) },
  "vm-cluster:vms[].mac": { change: vm0({ mac: "52:54:00:12:34:56" }) },
  "vm-cluster:vms[].memoryMiB": { change: vm0({ memoryMiB: 4096 }) },
  "vm-cluster:vms[].vcpus": { change: vm0({ vcpus: 2 }) },
  "vm-cluster:vms[].disk": { change: vm0({ disk: "40G" }) },
  "vm-cluster:vms[].class": { base: { "vm-cluster:classes": { big: { memoryMiB: 4096 } } }, change: vm0({ class: "big" }) },
  "vm-cluster:vms[].dataDisks": { change: vm0({ dataDisks: [{ name: "ceph", size: "10G" }] }) },
  "vm-cluster:vms[].dataDisks[].name": { base: CEPH, change: vm0({ dataDisks: [{ name: "rook", size: "10G" }] }) },
  "vm-cluster:vms[].dataDisks[].size": { base: CEPH, change: vm0({ dataDisks: [{ name: "ceph", size: "20G" }] }) },
  "vm-cluster:vms[].running": { change: vm0({ running: false }), concerns: { vms: [0], restart: "stops or starts this VM" } },
  "vm-cluster:vms[].cloudConfig": { change: vm0({ cloudConfig: { inline: { runcmd: ["modprobe br_netfilter"] } } }) },
  "vm-cluster:vms[].cloudConfig.file": { base: vm0({ cloudConfig: { inline: RUNCMD } })(RAW), change: vm0({ cloudConfig: { file: CLOUD_CONFIG } }) },
  "vm-cluster:vms[].cloudConfig.inline": {
    base: vm0({ cloudConfig: { inline: RUNCMD } })(RAW),
    change: vm0({ cloudConfig: { inline: "runcmd: [sysctl -p]" } }),
  },
  "vm-cluster:defaults.cloudConfig": { change: section("defaults", { cloudConfig: { inline: RUNCMD } }) },
  "vm-cluster:defaults.cloudConfig.file": { change: section("defaults", { cloudConfig: { file: CLOUD_CONFIG } }) },
  "vm-cluster:defaults.cloudConfig.inline": {
    base: { "vm-cluster:defaults": { cloudConfig: { file: CLOUD_CONFIG } } },
    change: section("defaults", { cloudConfig: { inline: { write_files: [{ path: "/etc/modules-load.d/k8s.conf", content: "br_netfilter\n" }] } } }),
  },
  "vm-cluster:vms[].groups": { change: vm0({ groups: ["kube_control_plane"] }) },
  "vm-cluster:classes": { change: () => ({ "vm-cluster:classes": { unused: { vcpus: 4 } } }) },
  "vm-cluster:classes.<name>.memoryMiB": { base: WORKERS, change: () => ({ "vm-cluster:classes": { worker: { memoryMiB: 3072 } } }), concerns: CLASS_VMS },
  "vm-cluster:classes.<name>.vcpus": {
    base: WORKERS,
    change: () => ({ "vm-cluster:classes": { worker: { memoryMiB: 1024, vcpus: 2 } } }),
    concerns: CLASS_VMS,
  },
  "vm-cluster:classes.<name>.disk": {
    base: WORKERS,
    change: () => ({ "vm-cluster:classes": { worker: { memoryMiB: 1024, disk: "40G" } } }),
    concerns: CLASS_VMS,
  },
  "vm-cluster:inventory.children": {
    base: { "vm-cluster:vms": anemoiVms().map((vm) => ({ ...vm, groups: ["kube_node"] })) },
    change: () => ({ "vm-cluster:inventory": { children: { k8s_cluster: ["kube_node"] } } }),
  },
  "vm-cluster:defaults.disk": { change: section("defaults", { disk: "40G" }) },
  "vm-cluster:defaults.memoryMiB": { change: section("defaults", { memoryMiB: 1024 }) },
  "vm-cluster:defaults.vcpus": { change: section("defaults", { vcpus: 2 }) },
  "vm-cluster:sshPublicKey.file": { change: () => ({ "vm-cluster:sshPublicKey": { file: "~/.ssh/id_ed25519.pub" } }) },
  "vm-cluster:sshPublicKey.key": { change: () => ({ "vm-cluster:sshPublicKey": { key: ed25519Line(7, "me@laptop") } }) },
  "vm-cluster:caCertificate": { change: () => ({ "vm-cluster:caCertificate": undefined }) },
  "vm-cluster:caCertificate.file": { change: () => ({ "vm-cluster:caCertificate": { file: BUNDLE } }) },
  "vm-cluster:caCertificate.pem": { change: () => ({ "vm-cluster:caCertificate": { pem: CA_PEM + CA_PEM } }) },
  "vm-cluster:image.url": {
    base: { "vm-cluster:image": IMAGE },
    change: () => ({ "vm-cluster:image": { ...IMAGE, url: "https://images.example/debian-13.qcow2" } }),
  },
  "vm-cluster:image.sha512": { base: { "vm-cluster:image": IMAGE }, change: () => ({ "vm-cluster:image": { ...IMAGE, sha512: "b".repeat(128) } }) },
  "vm-cluster:image.checksumsUrl": { change: () => ({ "vm-cluster:image": { url: IMAGE.url, checksumsUrl: "https://images.example/SHA512SUMS" } }) },
  "vm-cluster:poolDir": { change: () => ({ "vm-cluster:poolDir": "/srv/vm/anemoi" }) },
  "vm-cluster:domainType": { change: () => ({ "vm-cluster:domainType": "qemu" }) },
  "vm-cluster:readinessTimeoutSeconds": { change: () => ({ "vm-cluster:readinessTimeoutSeconds": 900 }) },
  "vm-cluster:consolePassword": { change: () => ({ "vm-cluster:consolePassword": true }) },
  "vm-cluster:disableCloudInitAfterBoot": { change: () => ({ "vm-cluster:disableCloudInitAfterBoot": true }) },
};

/** anemoi across two hosts: boreas and zephyrus on nuc1 (this machine), notus and eurus on nuc2 (over SSH). */
const LAN = { interface: "eno1", subnet: "172.17.1.0/24" };
const NUC1 = { type: "local", lan: { ...LAN, address: "172.17.1.10" } };
const NUC2 = { ...SSH_HOST, lan: { ...LAN, address: "172.17.1.11" } };
const TWO_HOSTS: Config = {
  "vm-cluster:host": undefined,
  "vm-cluster:lan": undefined,
  "vm-cluster:network": { cidr: "172.17.2.0/24", bridge: "kvmbr0" },
  "vm-cluster:hosts": { nuc1: NUC1, nuc2: NUC2 },
  "vm-cluster:vms": anemoiVms().map((vm, i) => (i < 2 ? { ...vm, host: "nuc1" } : { ...vm, host: "nuc2", ip: `172.17.2.${64 + i}` })),
};
const ON_NUC1: Concerned = { vms: [0, 1], restart: "restarts this VM", site: "nuc1" };
const ON_NUC2: Concerned = { vms: [2, 3], restart: "restarts this VM", site: "nuc2" };
const nuc = (host: "nuc1" | "nuc2", change: Config) => () => ({
  "vm-cluster:hosts": { ...TWO_HOSTS["vm-cluster:hosts"], [host]: { ...TWO_HOSTS["vm-cluster:hosts"][host], ...change } },
});
const nucLan = (host: "nuc1" | "nuc2", change: Config) => nuc(host, { lan: { ...TWO_HOSTS["vm-cluster:hosts"][host].lan, ...change } });
const NUC2_NETWORK = { cidr: "172.17.2.64/26" };
const NUC2_OWN: Config = { ...TWO_HOSTS, ...nuc("nuc2", { network: NUC2_NETWORK })() };
const nuc2Network = (change: Config) => () => ({
  "vm-cluster:hosts": { ...TWO_HOSTS["vm-cluster:hosts"], nuc2: { ...NUC2, network: { ...NUC2_NETWORK, ...change } } },
});

Object.assign(CHANGES, {
  "vm-cluster:lan.address": { change: section("lan", { address: "172.17.1.10" }) },
  "vm-cluster:hosts": {
    base: TWO_HOSTS,
    change: () => ({ "vm-cluster:hosts": { nuc1: NUC1 }, "vm-cluster:vms": TWO_HOSTS["vm-cluster:vms"].slice(0, 2) }),
  },
  "vm-cluster:hosts.<name>.type": { base: TWO_HOSTS, change: nuc("nuc1", { ...SSH_HOST, host: "nuc1.example" }), concerns: ON_NUC1 },
  "vm-cluster:hosts.<name>.sudo": { base: TWO_HOSTS, change: nuc("nuc1", { sudo: true }), concerns: ON_NUC1 },
  "vm-cluster:hosts.<name>.netns": { base: TWO_HOSTS, change: nuc("nuc1", { netns: "vmc-other" }), concerns: ON_NUC1 },
  "vm-cluster:hosts.<name>.host": { base: TWO_HOSTS, change: nuc("nuc2", { host: "nuc3.example" }), concerns: ON_NUC2 },
  "vm-cluster:hosts.<name>.port": { base: TWO_HOSTS, change: nuc("nuc2", { port: 2222 }), concerns: ON_NUC2 },
  "vm-cluster:hosts.<name>.user": { base: TWO_HOSTS, change: nuc("nuc2", { user: "admin", sudo: true }), concerns: ON_NUC2 },
  "vm-cluster:hosts.<name>.privateKey": { base: TWO_HOSTS, change: nuc("nuc2", { privateKey: OTHER_PRIVATE_KEY }), concerns: ON_NUC2 },
  "vm-cluster:hosts.<name>.hostKey": { base: TWO_HOSTS, change: nuc("nuc2", { hostKey: `SHA256:${"B".repeat(43)}` }), concerns: ON_NUC2 },
  "vm-cluster:hosts.<name>.lan.interface": { base: TWO_HOSTS, change: nucLan("nuc2", { interface: "eno2" }), concerns: ON_NUC2 },
  "vm-cluster:hosts.<name>.lan.subnet": {
    base: TWO_HOSTS,
    change: () => ({
      "vm-cluster:hosts": {
        nuc1: { ...NUC1, lan: { ...NUC1.lan, subnet: "172.17.0.0/23" } },
        nuc2: { ...NUC2, lan: { ...NUC2.lan, subnet: "172.17.0.0/23" } },
      },
    }),
  },
  "vm-cluster:hosts.<name>.lan.address": { base: TWO_HOSTS, change: nucLan("nuc2", { address: "172.17.1.12" }), concerns: ON_NUC2 },
  "vm-cluster:hosts.<name>.network.cidr": { base: NUC2_OWN, change: nuc2Network({ cidr: "172.17.2.64/27" }), concerns: ON_NUC2 },
  "vm-cluster:hosts.<name>.network.gateway": { base: NUC2_OWN, change: nuc2Network({ gateway: "172.17.2.126", dhcpEnd: "172.17.2.125" }), concerns: ON_NUC2 },
  "vm-cluster:hosts.<name>.network.dhcpStart": { base: NUC2_OWN, change: nuc2Network({ dhcpStart: "172.17.2.80" }), concerns: ON_NUC2 },
  "vm-cluster:hosts.<name>.network.dhcpEnd": { base: NUC2_OWN, change: nuc2Network({ dhcpEnd: "172.17.2.100" }), concerns: ON_NUC2 },
  "vm-cluster:vms[].host": {
    base: TWO_HOSTS,
    change: (c: Config) => ({
      "vm-cluster:vms": c["vm-cluster:vms"].map((vm: Config, i: number) => (i === 0 ? { ...vm, host: "nuc2", ip: "172.17.2.80" } : vm)),
    }),
  },
});

/** The anemoi stack's config (parsed values) with `over` applied; an undefined value removes the key. */
function configWith(over: Config): Config {
  const parsed = Object.fromEntries(Object.entries(anemoiConfig()).map(([k, v]) => [k, /^[[{]/.test(v) ? JSON.parse(v) : v]));
  const out = { ...parsed, ...over };
  for (const [k, v] of Object.entries(out)) if (v === undefined) delete out[k];
  return out;
}

describe("what a config change does to a running cluster", () => {
  const rows = configRows().filter((row) => row.onChange !== undefined);

  it("has a change below for every key with an On change, and only for those", () => {
    expect(rows.length).toBeGreaterThan(30);
    expect(Object.keys(CHANGES).sort()).toEqual(rows.map((row) => row.path).sort());
    for (const row of rows) expect(ON_CHANGE).toContain(row.onChange);
  });

  it("changes nothing when nothing changed (a second up is a no-op)", async () => {
    for (const base of [{}, { "vm-cluster:host": SSH_HOST }, { "vm-cluster:image": IMAGE }]) {
      const a = await build(configWith(base));
      const again = await build(configWith(base));
      const touched = [...(await plan(a, again))].filter(([, s]) => s.op !== "same").map(([n, s]) => `${n}: ${s.op}`);
      expect(touched).toEqual([]);
    }
  });

  for (const [key, { base = {}, change, concerns = FIRST_VM }] of Object.entries(CHANGES)) {
    it(`${key}: as the reference says`, async () => {
      const before = configWith(base);
      const a = await build(before);
      const b = await build(configWith({ ...base, ...change(before) }));
      const steps = await plan(a, b);
      const expected = rows.find((row) => row.path === key)!.onChange as OnChange;
      const touched = [...steps].filter(([, s]) => s.op !== "same").map(([n, s]) => `${n}: ${s.op}${s.restart ? " (restart)" : ""}`);
      expect(effect(a, b, steps, concerns), touched.join("\n")).toBe(expected);
    });
  }
});
