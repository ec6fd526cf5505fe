// ip_forward's sysctl.d file and libvirt's network.conf: the pure parts, and the diffs.
import { describe, expect, it } from "vitest";
import {
  firewallBackendOf,
  firewallBackendProvider,
  hasFirewallBackendSetting,
  ipForwardFileContent,
  ipForwardProvider,
  parseLibvirtVersion,
  withFirewallBackend,
  type FirewallBackendState,
  type IpForwardState,
} from "../../host";

describe("ip_forward sysctl.d file", () => {
  it("sets only net.ipv4.ip_forward = 1 and says who wrote it", () => {
    const lines = ipForwardFileContent().split("\n");
    expect(lines.filter((l) => l && !l.startsWith("#"))).toEqual(["net.ipv4.ip_forward = 1"]);
    expect(lines[0]).toMatch(/^# vm-cluster/);
  });
});

describe("ipForwardProvider.diff", () => {
  const news = { connection: { type: "local" as const }, user: "p.a", sysctlDir: "/etc/sysctl.d", stateDir: "/var/lib/vm-cluster" };
  const olds: IpForwardState = { ...news, value: "1", persisted: true, registered: true };
  it("no change while the value, the file and the marker are in place", async () => {
    expect((await ipForwardProvider.diff!("id", olds, news)).changes).toBe(false);
  });
  it("an update for a value or file changed by hand", async () => {
    expect((await ipForwardProvider.diff!("id", { ...olds, value: "0" }, news)).changes).toBe(true);
    expect((await ipForwardProvider.diff!("id", { ...olds, persisted: false }, news)).changes).toBe(true);
  });
  it("a replacement, old one released first, for another folder or marker", async () => {
    expect(await ipForwardProvider.diff!("id", olds, { ...news, sysctlDir: "/run/sysctl.d" })).toMatchObject({
      replaces: ["sysctlDir"],
      deleteBeforeReplace: true,
    });
  });
});

describe("libvirt version", () => {
  it("reads virsh --version", () => {
    expect(parseLibvirtVersion("9.0.0\n")).toEqual([9, 0, 0]);
    expect(parseLibvirtVersion("10.4")).toEqual([10, 4, 0]);
    expect(parseLibvirtVersion("no")).toBeUndefined();
  });
  it("has firewall_backend from 10.4", () => {
    expect(hasFirewallBackendSetting([9, 0, 0])).toBe(false);
    expect(hasFirewallBackendSetting([10, 3, 0])).toBe(false);
    expect(hasFirewallBackendSetting([10, 4, 0])).toBe(true);
    expect(hasFirewallBackendSetting([11, 0, 0])).toBe(true);
  });
});

describe("network.conf", () => {
  // As libvirt 10.x ships it: the setting commented out.
  const stock = '# Master configuration file for the network driver.\n#\n#firewall_backend = "nftables"\n';

  it("reads the active setting only", () => {
    expect(firewallBackendOf(undefined)).toBeUndefined();
    expect(firewallBackendOf(stock)).toBeUndefined();
    expect(firewallBackendOf('firewall_backend="iptables"\n')).toBe("iptables");
    expect(firewallBackendOf('firewall_backend = "nftables"\nfirewall_backend = "iptables"\n')).toBe("iptables");
  });

  it("appends the setting, keeping the rest as it was", () => {
    expect(withFirewallBackend(stock, "iptables")).toBe(`${stock}firewall_backend = "iptables"\n`);
    expect(withFirewallBackend("# no newline", "iptables")).toBe('# no newline\nfirewall_backend = "iptables"\n');
  });

  it("replaces an active setting in place", () => {
    expect(withFirewallBackend('a = 1\n  firewall_backend = "nftables"\nb = 2\n', "iptables")).toBe('a = 1\nfirewall_backend = "iptables"\nb = 2\n');
  });

  it("writes a new file with only the setting", () => {
    expect(firewallBackendOf(withFirewallBackend(undefined, "iptables"))).toBe("iptables");
  });
});

describe("firewallBackendProvider.diff", () => {
  const news = { connection: { type: "local" as const }, user: "p.a", networkConf: "/etc/libvirt/network.conf", stateDir: "/var/lib/vm-cluster" };
  const set: FirewallBackendState = { ...news, libvirtVersion: "10.6.0", supported: true, backend: "iptables", registered: true, warnings: [] };
  it("no change while the setting holds, or where libvirt has none", async () => {
    expect((await firewallBackendProvider.diff!("id", set, news)).changes).toBe(false);
    const old: FirewallBackendState = { ...set, libvirtVersion: "9.0.0", supported: false, backend: null, registered: false };
    expect((await firewallBackendProvider.diff!("id", old, news)).changes).toBe(false);
  });
  it("an update when the setting was changed by hand", async () => {
    expect((await firewallBackendProvider.diff!("id", { ...set, backend: "nftables" }, news)).changes).toBe(true);
  });
});
