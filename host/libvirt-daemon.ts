// libvirt's daemons running (and, with systemd, enabled at boot). Without systemd (containers, the
// test bed) virtlogd and libvirtd are started directly. Destroy leaves them running: other stacks
// and other software on the host use the same daemons.
import { deleteFirst } from "../provider/delete-first";
import * as pulumi from "../provider/pulumi";
import type { ConnectionSpec, HostConnection } from "../transport/connection";
import { readFileIfExists } from "../transport/files";
import { hostSettingProvider, settingProps } from "./host-setting";
import { showWarnings } from "./warnings";
import { DynamicResource } from "../provider/dynamic-resource";

export type ServiceManager = "systemd" | "direct";

/**
 * systemd units per need; any one of a group meets it, the first is the one to enable and start.
 * A socket-activated daemon that exited while idle (Debian's `--timeout 120`) runs through its socket.
 */
type UnitGroups = readonly (readonly string[])[];
/** The classic single daemon (Debian 12's default). */
export const MONOLITHIC_UNITS: UnitGroups = [["libvirtd.service", "libvirtd.socket"]];
/** One daemon per driver, socket-activated (Fedora's and RHEL's default): the drivers we use. */
export const MODULAR_UNITS: UnitGroups = [["virtqemud.socket"], ["virtnetworkd.socket"], ["virtstoraged.socket"]];
/** Started in this order without systemd: QEMU's logs go through virtlogd. */
export const DIRECT_DAEMONS = ["virtlogd", "libvirtd"];

const START_TIMEOUT_MS = 30_000;

/** `systemctl is-enabled` words meaning "starts at boot without us". */
const STARTS_AT_BOOT = ["enabled", "static", "alias"];

/** Keep the host's choice: libvirtd when it is enabled, else the modular daemons where installed. */
export function chooseUnits(libvirtdState: string, virtqemudSocketState: string): UnitGroups {
  if (STARTS_AT_BOOT.includes(libvirtdState)) return MONOLITHIC_UNITS;
  return virtqemudSocketState === "" || virtqemudSocketState === "not-found" ? MONOLITHIC_UNITS : MODULAR_UNITS;
}

export interface LibvirtDaemonInputs {
  connection: ConnectionSpec;
}

export interface LibvirtDaemonState extends LibvirtDaemonInputs {
  manager: ServiceManager;
  /** systemd units we enable and start, or the daemons we start without systemd. */
  units: string[];
  running: boolean;
  /** Started at boot (systemd only; always false without it). */
  enabled: boolean;
  warnings: string[];
}

/** sd_booted(): systemd is the init system when this folder exists. */
export async function serviceManager(conn: HostConnection): Promise<ServiceManager> {
  return (await conn.run(["test", "-d", "/run/systemd/system"], { okCodes: [0, 1] })).code === 0 ? "systemd" : "direct";
}

/** One unit per call: older systemd prints nothing on stdout for a unit it does not know. */
async function systemctlState(conn: HostConnection, verb: "is-active" | "is-enabled", unit: string): Promise<string> {
  return (await conn.run(["systemctl", verb, unit], { okCodes: [0, 1, 3, 4] })).stdout.trim();
}

/** Whether `name` runs: its pid file names a live process of that name. */
export async function daemonRunning(conn: HostConnection, name: string): Promise<boolean> {
  const pid = (await readFileIfExists(conn, `/run/${name}.pid`))?.trim();
  if (!pid || !/^[0-9]+$/.test(pid)) return false;
  return (await readFileIfExists(conn, `/proc/${pid}/comm`))?.trim() === name;
}

export async function inspectDaemon(conn: HostConnection, inputs: LibvirtDaemonInputs): Promise<LibvirtDaemonState> {
  const manager = await serviceManager(conn);
  if (manager === "direct") {
    const running = (await Promise.all(DIRECT_DAEMONS.map((d) => daemonRunning(conn, d)))).every(Boolean);
    return { ...inputs, manager, units: DIRECT_DAEMONS, running, enabled: false, warnings: [] };
  }
  const groups = chooseUnits(await systemctlState(conn, "is-enabled", "libvirtd.service"), await systemctlState(conn, "is-enabled", "virtqemud.socket"));
  const any = async (verb: "is-active" | "is-enabled", group: readonly string[], ok: (state: string) => boolean) => {
    for (const unit of group) if (ok(await systemctlState(conn, verb, unit))) return true;
    return false;
  };
  let running = true;
  let enabled = true;
  for (const group of groups) {
    running &&= await any("is-active", group, (s) => s === "active");
    enabled &&= await any("is-enabled", group, (s) => STARTS_AT_BOOT.includes(s));
  }
  return { ...inputs, manager, units: groups.map((g) => g[0]!), running, enabled, warnings: [] };
}

async function waitFor(what: string, where: string, ok: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + START_TIMEOUT_MS;
  while (!(await ok())) {
    if (Date.now() > until)
      throw new Error(`${what} on ${where} did not happen within ${START_TIMEOUT_MS / 1000} s: see the daemon's log (journal or /var/log/libvirt/)`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Starts (and with systemd enables) what is not running; returns the state afterwards. */
export async function ensureDaemon(conn: HostConnection, inputs: LibvirtDaemonInputs): Promise<LibvirtDaemonState> {
  const state = await inspectDaemon(conn, inputs);
  if (state.manager === "systemd") {
    if (state.running && state.enabled) return state;
    await conn.run(["systemctl", "enable", "--now", ...state.units]);
    return { ...state, running: true, enabled: true };
  }
  if (state.running) return state;
  for (const daemon of DIRECT_DAEMONS) {
    if (await daemonRunning(conn, daemon)) continue;
    await conn.run([daemon, "-d"]);
    await waitFor(`${daemon} writing its pid file`, conn.description, () => daemonRunning(conn, daemon));
  }
  await waitFor(
    "libvirtd answering",
    conn.description,
    async () => (await conn.run(["virsh", "-c", "qemu:///system", "version"], { okCodes: [0, 1] })).code === 0,
  );
  const warning = `no systemd on ${conn.description}: vm-cluster started ${DIRECT_DAEMONS.join(" and ")} directly, and nothing starts them at boot: add them to the host's init system`;
  return { ...state, running: true, warnings: [warning] };
}

// No restore: the daemons stay (see the file comment).
export const libvirtDaemonProvider = hostSettingProvider<LibvirtDaemonInputs, LibvirtDaemonState>({
  what: "libvirt daemon",
  idPrefix: "libvirt-daemon",
  replaceKeys: [],
  inspect: inspectDaemon,
  apply: ensureDaemon,
  drift: (olds) => !olds.running || (olds.manager === "systemd" && !olds.enabled),
});

export interface LibvirtDaemonArgs {
  connection: pulumi.Input<ConnectionSpec>;
}

/** libvirt running on the host: systemd units enabled and started, or the daemons started directly. */
export class LibvirtDaemon extends DynamicResource {
  declare readonly manager: pulumi.Output<ServiceManager>;
  declare readonly units: pulumi.Output<string[]>;
  declare readonly running: pulumi.Output<boolean>;
  declare readonly enabled: pulumi.Output<boolean>;
  declare readonly warnings: pulumi.Output<string[]>;

  constructor(name: string, args: LibvirtDaemonArgs, opts?: pulumi.CustomResourceOptions) {
    const props = settingProps({ connection: args.connection }, ["manager", "units", "running", "enabled", "warnings"]);
    super(libvirtDaemonProvider, name, props, deleteFirst(opts), "vm-cluster", "LibvirtDaemon");
    showWarnings(this, this.warnings);
  }
}
