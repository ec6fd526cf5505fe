// The host resources' providers against a real host of the test's own (network namespace + temp
// folders): up, drift by hand, refresh, up, two stacks, destroy back to the snapshot. Every case runs
// twice: through a local connection into the namespace, and over SSH to an sshd inside it.
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type CommandResult, type ConnectionSpec, type HostConnection, type RunOptions } from "../../transport/connection";
import {
  clusterRules,
  describeRule,
  firewallBackendProvider,
  firewallRulesProvider,
  firewallTag,
  hostPackagesProvider,
  IP_FORWARD_FILE,
  ipForwardFileContent,
  ipForwardProvider,
  libvirtDaemonProvider,
  releaseFirewallBackend,
  ruleArgv,
  setFirewallBackend,
  virtualizationCheckProvider,
  type FirewallBackendInputs,
  type FirewallRulesInputs,
  type FirewallRulesState,
  type IpForwardInputs,
} from "../../host";
import { startSshd, type TestSshd } from "../support/sshd";
import { createHostBed, STOCK_NETWORK_CONF, type HostBed, type HostSnapshot } from "./host-bed";

const anemoi = { cluster: "anemoi", lanInterface: "eno1", bridge: "kvmbr0", clusterCidr: "172.17.2.0/24", lanCidr: "172.17.1.0/24" };
const second = { cluster: "second", lanInterface: "eno1", bridge: "vmc-second", clusterCidr: "172.18.0.0/24", lanCidr: "172.17.1.0/24" };

/** The real host, except that `virsh --version` answers a libvirt with firewall_backend. */
class Libvirt10_6 implements HostConnection {
  constructor(private readonly real: HostConnection) {}
  get description() {
    return this.real.description;
  }
  run(argv: string[], opts?: RunOptions): Promise<CommandResult> {
    if (argv.join(" ") === "virsh --version") return Promise.resolve({ stdout: "10.6.0\n", stderr: "", code: 0 });
    return this.real.run(argv, opts);
  }
}

/** Independent of the code under test: pid file of a live process of that name. */
function daemonAlive(name: string): boolean {
  try {
    const pid = readFileSync(`/run/${name}.pid`, "utf8").trim();
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim() === name;
  } catch {
    return false;
  }
}

describe.each(["local", "ssh"] as const)("over the %s connection", (kind) => {
  let bed: HostBed;
  let sshd: TestSshd | undefined;
  /** How the code under test reaches the bed: directly into its namespace, or over SSH to an sshd inside it. */
  let connection: ConnectionSpec;
  let before: HostSnapshot;

  beforeAll(async () => {
    bed = createHostBed(`hostprep-${kind}`);
    if (kind === "ssh") {
      sshd = await startSshd("hostprep", 2, { netns: bed.netns });
      connection = { type: "ssh", host: sshd.host, port: sshd.port, user: sshd.user, privateKey: sshd.privateKey, hostKey: sshd.hostKey };
    } else {
      connection = bed.spec;
    }
    before = bed.snapshot();
  });

  afterAll(async () => {
    try {
      await sshd?.stop();
    } finally {
      bed?.cleanup();
    }
  });

  function stack(user: string, cluster: typeof anemoi) {
    const ipForward: IpForwardInputs = { connection, user, sysctlDir: bed.sysctlDir, stateDir: bed.stateDir };
    const backend: FirewallBackendInputs = { connection, user, networkConf: bed.networkConf, stateDir: bed.stateDir };
    const rules: FirewallRulesInputs = { connection, ...cluster };
    return { ipForward, backend, rules };
  }

  /** Lines of iptables-save carrying exactly this comment. */
  function taggedLines(tag: string): string[] {
    return bed
      .sh(["iptables-save"])
      .split("\n")
      .filter((l) => l.includes(`--comment "${tag}"`));
  }

  function rulePresent(cluster: typeof anemoi, index: number): boolean {
    return bed.code(ruleArgv("check", clusterRules(cluster)[index]!, firewallTag(cluster.cluster))) === 0;
  }

  describe("virtualization check", () => {
    it("fails on a host without KVM with what is missing and how to fix it, and changes nothing", async () => {
      const kvmDevice = path.join(bed.dir, "no-kvm"); // on any host: the device is missing
      const inputs = { connection, domainType: "kvm" as const, kvmDevice };
      await expect(virtualizationCheckProvider.create(inputs)).rejects.toThrow(
        new RegExp(`cannot run KVM guests: .*${kvmDevice} does not exist: load KVM .*domainType: qemu`, "s"),
      );
      expect(bed.snapshot()).toEqual(before);
    });

    it("passes with domainType qemu, warning about software emulation", async () => {
      const inputs = { connection, domainType: "qemu" as const, kvmDevice: path.join(bed.dir, "no-kvm") };
      const { outs } = await virtualizationCheckProvider.create(inputs);
      expect(outs).toMatchObject({ kvmUsable: false, warnings: [expect.stringMatching(/software emulation/)] });
      expect(bed.snapshot()).toEqual(before);
    });
  });

  describe("host preparation, one stack", () => {
    const a = () => stack("proj.a", anemoi);
    let rulesState: FirewallRulesState;

    it("up: ip_forward on and persisted, firewall backend as libvirt allows, the three rules with the cluster's comment", async () => {
      const ip = await ipForwardProvider.create(a().ipForward);
      expect(ip.outs).toMatchObject({ value: "1", persisted: true, registered: true });
      expect(bed.sh(["sysctl", "-n", "net.ipv4.ip_forward"]).trim()).toBe("1");
      expect(readFileSync(path.join(bed.sysctlDir, IP_FORWARD_FILE), "utf8")).toBe(ipForwardFileContent());

      const backend = (await firewallBackendProvider.create(a().backend)).outs!;
      if (backend.supported) {
        expect(readFileSync(bed.networkConf, "utf8")).toBe(`${STOCK_NETWORK_CONF}firewall_backend = "iptables"\n`);
      } else {
        // libvirt < 10.4 (Debian 12's 9.0): skipped, and it says so.
        expect(readFileSync(bed.networkConf, "utf8")).toBe(STOCK_NETWORK_CONF);
        expect(backend.warnings).toEqual([expect.stringMatching(/^libvirt \S+ has no firewall_backend setting \(it came in libvirt 10\.4\)/)]);
      }

      rulesState = (await firewallRulesProvider.create(a().rules)).outs!;
      expect(rulesState.rules).toEqual(clusterRules(anemoi).map(describeRule));
      for (const i of [0, 1, 2]) expect(rulePresent(anemoi, i)).toBe(true);
      const lines = taggedLines("vm-cluster:anemoi");
      expect(lines).toHaveLength(3);
      expect(lines).toContain('-A POSTROUTING -s 172.17.2.0/24 -o eno1 -m comment --comment "vm-cluster:anemoi" -j MASQUERADE');
      // FORWARD rules inserted at the top, like the seed's.
      expect(bed.sh(["iptables", "-S", "FORWARD"]).split("\n")[1]).toContain("vm-cluster:anemoi");
    });

    it("refresh after up sees no drift", async () => {
      const read = await firewallRulesProvider.read!("id", rulesState);
      expect((await firewallRulesProvider.diff!("id", read.props!, a().rules)).changes).toBe(false);
      const ip = await ipForwardProvider.read!("id", { ...a().ipForward, value: "1", persisted: true, registered: true });
      expect((await ipForwardProvider.diff!("id", ip.props!, a().ipForward)).changes).toBe(false);
    });

    it("a rule deleted by hand: refresh reports it missing, the next up adds it back once", async () => {
      bed.sh(ruleArgv("delete", clusterRules(anemoi)[2]!, "vm-cluster:anemoi"));
      const read = await firewallRulesProvider.read!("id", rulesState);
      expect(read.props!.rules).toEqual(clusterRules(anemoi).slice(0, 2).map(describeRule));
      expect((await firewallRulesProvider.diff!("id", read.props!, a().rules)).changes).toBe(true);

      const updated = await firewallRulesProvider.update!("id", read.props!, a().rules);
      expect(updated.outs!.rules).toHaveLength(3);
      expect(rulePresent(anemoi, 2)).toBe(true);
      expect(taggedLines("vm-cluster:anemoi")).toHaveLength(3);

      // -C before insert: another up adds nothing.
      await firewallRulesProvider.update!("id", updated.outs!, a().rules);
      expect(taggedLines("vm-cluster:anemoi")).toHaveLength(3);
    });

    it("ip_forward set back to 0 by hand: refresh reports it, the next up sets it again", async () => {
      bed.sh(["sysctl", "-q", "-w", "net.ipv4.ip_forward=0"]);
      const read = await ipForwardProvider.read!("id", { ...a().ipForward, value: "1", persisted: true, registered: true });
      expect(read.props!.value).toBe("0");
      expect((await ipForwardProvider.diff!("id", read.props!, a().ipForward)).changes).toBe(true);
      await ipForwardProvider.update!("id", read.props!, a().ipForward);
      expect(bed.sh(["sysctl", "-n", "net.ipv4.ip_forward"]).trim()).toBe("1");
    });
  });

  describe("two stacks on one host", () => {
    const a = () => stack("proj.a", anemoi);
    const b = () => stack("proj.b", second);

    it("destroying one keeps ip_forward and the other's rules", async () => {
      await ipForwardProvider.create(b().ipForward);
      await firewallBackendProvider.create(b().backend);
      await firewallRulesProvider.create(b().rules);

      await firewallRulesProvider.delete!("id", { ...a().rules, rules: [] });
      await firewallBackendProvider.delete!("id", { ...a().backend } as never);
      await ipForwardProvider.delete!("id", { ...a().ipForward, value: "1", persisted: true, registered: true });

      expect(taggedLines("vm-cluster:anemoi")).toEqual([]);
      expect(taggedLines("vm-cluster:second")).toHaveLength(3);
      expect(taggedLines("vm-cluster:anemoi2")).toHaveLength(1);
      expect(bed.sh(["sysctl", "-n", "net.ipv4.ip_forward"]).trim()).toBe("1");
      expect(existsSync(path.join(bed.sysctlDir, IP_FORWARD_FILE))).toBe(true);
    });

    it("destroying the last puts everything back as it was", async () => {
      await firewallRulesProvider.delete!("id", { ...b().rules, rules: [] });
      await firewallBackendProvider.delete!("id", { ...b().backend } as never);
      await ipForwardProvider.delete!("id", { ...b().ipForward, value: "1", persisted: true, registered: true });
      expect(bed.snapshot()).toEqual(before);
    });

    it("deleting what is already gone succeeds and changes nothing", async () => {
      await firewallRulesProvider.delete!("id", { ...b().rules, rules: [] });
      await ipForwardProvider.delete!("id", { ...b().ipForward, value: "1", persisted: true, registered: true });
      await firewallBackendProvider.delete!("id", { ...b().backend } as never);
      expect(bed.snapshot()).toEqual(before);
    });

    it("destroy also removes rules with the cluster's comment from an earlier config, and only those", async () => {
      const old = { ...anemoi, lanInterface: "eth0" };
      await firewallRulesProvider.create(stack("proj.a", old).rules);
      await firewallRulesProvider.create(a().rules);
      expect(taggedLines("vm-cluster:anemoi")).toHaveLength(6);
      await firewallRulesProvider.delete!("id", { ...a().rules, rules: [] });
      expect(bed.snapshot()).toEqual(before);
    });
  });

  describe("network.conf where libvirt has firewall_backend (10.4+)", () => {
    it("is set, shared by two stacks, and restored by the last one", async () => {
      const conn = new Libvirt10_6(connect(connection));
      const a = stack("proj.a", anemoi).backend;
      const b = stack("proj.b", second).backend;

      const set = await setFirewallBackend(conn, a);
      expect(set).toMatchObject({ supported: true, backend: "iptables", registered: true });
      expect(set.warnings[0]).toMatch(/restart libvirtd/);
      expect(readFileSync(bed.networkConf, "utf8")).toBe(`${STOCK_NETWORK_CONF}firewall_backend = "iptables"\n`);
      expect((await setFirewallBackend(conn, b)).warnings).toEqual([]); // already set: no rewrite

      await releaseFirewallBackend(conn, a);
      expect(readFileSync(bed.networkConf, "utf8")).toContain('firewall_backend = "iptables"');
      await releaseFirewallBackend(conn, b);
      expect(bed.snapshot()).toEqual(before);
    });

    it("creates a missing network.conf and removes it again", async () => {
      const conn = new Libvirt10_6(connect(connection));
      const a = { ...stack("proj.a", anemoi).backend, networkConf: path.join(bed.dir, "libvirt", "absent.conf") };
      await setFirewallBackend(conn, a);
      expect(readFileSync(a.networkConf, "utf8")).toMatch(/^firewall_backend = "iptables"$/m);
      await releaseFirewallBackend(conn, a);
      expect(existsSync(a.networkConf)).toBe(false);
      expect(bed.snapshot()).toEqual(before);
    });
  });

  describe("read-only views of the host", () => {
    it("the libvirt daemon: read sees it as it is (this test bed: started directly, no systemd)", async () => {
      const { props } = await libvirtDaemonProvider.read!("id", { connection } as never);
      const systemd = existsSync("/run/systemd/system");
      expect(props!.manager).toBe(systemd ? "systemd" : "direct");
      if (!systemd) expect(props!.running).toBe(daemonAlive("libvirtd") && daemonAlive("virtlogd"));
    });

    it("packages: read finds this Debian host's family and nothing missing (set-up installed them)", async () => {
      const { props } = await hostPackagesProvider.read!("id", { connection, installed: [] } as never);
      expect(props).toMatchObject({ family: "debian", missing: [], installed: [] });
      expect(props!.packages).toContain("libvirt-daemon-system");
    });
  });
});
