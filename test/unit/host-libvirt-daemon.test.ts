import { describe, expect, it } from "vitest";
import { chooseUnits, ensureDaemon, inspectDaemon, libvirtDaemonProvider, MODULAR_UNITS, MONOLITHIC_UNITS, type LibvirtDaemonState } from "../../host";
import { FakeConnection } from "./host-fake-connection";

const inputs = { connection: { type: "local" as const } };

/** A systemd host: `enabled` / `active` units, and whatever systemctl enable --now turns on. */
function systemdHost(enabled: Set<string>, active: Set<string>, known: string[]): FakeConnection {
  return new FakeConnection((argv) => {
    if (argv[0] === "test" && argv[2] === "/run/systemd/system") return { code: 0 };
    if (argv[0] !== "systemctl") throw new Error(`unexpected ${argv.join(" ")}`);
    const [, verb, ...units] = argv;
    if (verb === "enable") {
      for (const u of units.slice(1)) {
        enabled.add(u);
        active.add(u);
      }
      return {};
    }
    const unit = units[0]!;
    if (verb === "is-enabled")
      return known.includes(unit)
        ? { stdout: enabled.has(unit) ? "enabled\n" : "disabled\n", code: enabled.has(unit) ? 0 : 1 }
        : { stderr: "No such file", code: 1 };
    if (verb === "is-active") return { stdout: active.has(unit) ? "active\n" : "inactive\n", code: active.has(unit) ? 0 : 3 };
    throw new Error(`unexpected ${argv.join(" ")}`);
  });
}

/** A host without systemd: pid files of `running` daemons name live processes of that name. */
function directHost(running: Set<string>): FakeConnection {
  return new FakeConnection((argv) => {
    const [cmd, flag, path] = argv;
    if (cmd === "test" && path === "/run/systemd/system") return { code: 1 };
    const pidFile = /^\/run\/(\w+)\.pid$/.exec(path ?? "");
    const comm = /^\/proc\/(\d+)\/comm$/.exec(path ?? "");
    const daemonOfPid = (pid: string) => ["virtlogd", "libvirtd"][Number(pid) - 100];
    if (cmd === "test" && flag === "-e" && pidFile) return { code: running.has(pidFile[1]!) ? 0 : 1 };
    if (cmd === "test" && flag === "-e" && comm) return { code: 0 };
    if (cmd === "cat" && pidFile) return { stdout: `${100 + ["virtlogd", "libvirtd"].indexOf(pidFile[1]!)}\n` };
    if (cmd === "cat" && comm) return { stdout: `${daemonOfPid(comm[1]!)}\n` };
    if (cmd === "virtlogd" || cmd === "libvirtd") {
      running.add(cmd);
      return {};
    }
    if (cmd === "virsh") return { code: running.has("libvirtd") ? 0 : 1 };
    throw new Error(`unexpected ${argv.join(" ")}`);
  });
}

describe("chooseUnits", () => {
  it("keeps libvirtd where it is enabled (Debian 12)", () => {
    expect(chooseUnits("enabled", "disabled")).toEqual(MONOLITHIC_UNITS);
  });
  it("uses the modular daemons where they are installed and libvirtd is not enabled (Fedora, RHEL)", () => {
    expect(chooseUnits("disabled", "enabled")).toEqual(MODULAR_UNITS);
    expect(chooseUnits("", "disabled")).toEqual(MODULAR_UNITS);
  });
  it("falls back to libvirtd where no modular daemon exists", () => {
    expect(chooseUnits("disabled", "")).toEqual(MONOLITHIC_UNITS);
    expect(chooseUnits("disabled", "not-found")).toEqual(MONOLITHIC_UNITS);
  });
});

describe("ensureDaemon with systemd", () => {
  it("does nothing when libvirtd is enabled and active", async () => {
    const conn = systemdHost(new Set(["libvirtd.service"]), new Set(["libvirtd.service"]), ["libvirtd.service"]);
    expect(await ensureDaemon(conn, inputs)).toMatchObject({ manager: "systemd", units: ["libvirtd.service"], running: true, enabled: true });
    expect(conn.callsOf("systemctl", "enable")).toEqual([]);
  });
  it("counts a libvirtd that exited while idle as running through its socket", async () => {
    const conn = systemdHost(new Set(["libvirtd.service", "libvirtd.socket"]), new Set(["libvirtd.socket"]), ["libvirtd.service", "libvirtd.socket"]);
    expect(await ensureDaemon(conn, inputs)).toMatchObject({ running: true, enabled: true });
    expect(conn.callsOf("systemctl", "enable")).toEqual([]);
  });
  it("enables and starts libvirtd when it is enabled but stopped", async () => {
    const conn = systemdHost(new Set(["libvirtd.service"]), new Set(), ["libvirtd.service", "virtqemud.socket"]);
    await ensureDaemon(conn, inputs);
    expect(conn.callsOf("systemctl", "enable")).toEqual([["systemctl", "enable", "--now", "libvirtd.service"]]);
  });
  it("enables the modular sockets on a host that has them and no enabled libvirtd", async () => {
    const conn = systemdHost(new Set(), new Set(), ["libvirtd.service", "virtqemud.socket", "virtnetworkd.socket", "virtstoraged.socket"]);
    const state = await ensureDaemon(conn, inputs);
    const sockets = ["virtqemud.socket", "virtnetworkd.socket", "virtstoraged.socket"];
    expect(conn.callsOf("systemctl", "enable")).toEqual([["systemctl", "enable", "--now", ...sockets]]);
    expect(state).toMatchObject({ units: sockets, running: true, enabled: true, warnings: [] });
    expect(await inspectDaemon(conn, inputs)).toMatchObject({ units: sockets, running: true, enabled: true });
  });
});

describe("ensureDaemon without systemd", () => {
  it("sees running daemons by their pid files and starts nothing", async () => {
    const conn = directHost(new Set(["virtlogd", "libvirtd"]));
    expect(await ensureDaemon(conn, inputs)).toMatchObject({ manager: "direct", running: true, enabled: false, warnings: [] });
    expect(conn.calls.filter((a) => a[0] !== "test" && a[1] === "-d")).toEqual([]);
  });
  it("starts virtlogd, then libvirtd, waits until it answers, and warns that nothing starts them at boot", async () => {
    const conn = directHost(new Set());
    const state = await ensureDaemon(conn, inputs);
    expect(conn.calls.filter((a) => a[0] !== "test" && a[1] === "-d")).toEqual([
      ["virtlogd", "-d"],
      ["libvirtd", "-d"],
    ]);
    expect(conn.callsOf("virsh").length).toBeGreaterThan(0);
    expect(state.running).toBe(true);
    expect(state.warnings[0]).toMatch(/no systemd.*nothing starts them at boot/);
  });
  it("starts only libvirtd when virtlogd runs", async () => {
    const conn = directHost(new Set(["virtlogd"]));
    await ensureDaemon(conn, inputs);
    expect(conn.calls.filter((a) => a[0] !== "test" && a[1] === "-d")).toEqual([["libvirtd", "-d"]]);
  });
});

describe("libvirtDaemonProvider", () => {
  const olds: LibvirtDaemonState = {
    connection: { type: "local" },
    manager: "direct",
    units: ["virtlogd", "libvirtd"],
    running: true,
    enabled: false,
    warnings: [],
  };
  it("no change while it runs (no boot start to ask for without systemd)", async () => {
    expect((await libvirtDaemonProvider.diff!("id", olds, inputs)).changes).toBe(false);
  });
  it("an update when refresh found it stopped, or not enabled under systemd", async () => {
    expect((await libvirtDaemonProvider.diff!("id", { ...olds, running: false }, inputs)).changes).toBe(true);
    expect((await libvirtDaemonProvider.diff!("id", { ...olds, manager: "systemd", enabled: false }, inputs)).changes).toBe(true);
  });
  it("delete leaves the daemons alone", async () => {
    await expect(libvirtDaemonProvider.delete!("id", olds)).resolves.toBeUndefined();
  });
});
