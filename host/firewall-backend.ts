// libvirt's network firewall backend set to iptables, as the seed does: our FORWARD rules are
// iptables rules, and with the nftables backend libvirt's own tables would drop what they accept.
// The setting exists from libvirt 10.4 (older releases always use iptables): skipped, with a
// warning, where it does not. Shared by every stack: the last one restores network.conf.
import { deleteFirst } from "../provider/delete-first";
import * as pulumi from "../provider/pulumi";
import type { ConnectionSpec, HostConnection } from "../transport/connection";
import { readFileIfExists, removeFile, writeFile } from "../transport/files";
import { hostSettingProvider, settingProps } from "./host-setting";
import { addUser, DEFAULT_STATE_DIR, defaultUser, forgetPrevious, isUser, recordPrevious, removeUser, sharedChangePaths } from "./shared-change";
import { showWarnings } from "./warnings";
import { DynamicResource } from "../provider/dynamic-resource";

export const DEFAULT_NETWORK_CONF = "/etc/libvirt/network.conf";
export const FIREWALL_BACKEND = "iptables";
/** The first libvirt with `firewall_backend` in network.conf. */
export const FIREWALL_BACKEND_SINCE: readonly [number, number] = [10, 4];

const SETTING = /^\s*firewall_backend\s*=\s*(.*?)\s*$/;

/** `virsh --version` prints the library's version, e.g. "10.6.0". */
export function parseLibvirtVersion(text: string): [number, number, number] | undefined {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

export function hasFirewallBackendSetting(version: readonly [number, number, number]): boolean {
  const [major, minor] = FIREWALL_BACKEND_SINCE;
  return version[0] > major || (version[0] === major && version[1] >= minor);
}

/** The active (not commented out) setting's value, quotes removed. */
export function firewallBackendOf(content: string | undefined): string | undefined {
  let value: string | undefined;
  for (const line of (content ?? "").split("\n")) {
    const m = SETTING.exec(line);
    if (m) value = m[1]!.replace(/^"(.*)"$/, "$1"); // the last one wins, as in libvirt's parser
  }
  return value;
}

/** The file with every active setting line replaced by ours, or ours appended (a new file: just ours). */
export function withFirewallBackend(content: string | undefined, backend: string): string {
  const line = `firewall_backend = "${backend}"`;
  if (content === undefined || content === "") return `# vm-cluster: libvirt's own rules must be iptables rules like ours.\n${line}\n`;
  const lines = content.split("\n");
  if (lines.some((l) => SETTING.test(l))) return lines.map((l) => (SETTING.test(l) ? line : l)).join("\n");
  return `${content}${content.endsWith("\n") ? "" : "\n"}${line}\n`;
}

export interface FirewallBackendInputs {
  connection: ConnectionSpec;
  /** This stack's marker name (default `<project>.<stack>`). */
  user: string;
  networkConf: string;
  stateDir: string;
}

export interface FirewallBackendState extends FirewallBackendInputs {
  libvirtVersion: string;
  /** Whether this libvirt has the setting; nothing is changed where it has not. */
  supported: boolean;
  /** The active setting in network.conf, null when none. */
  backend: string | null;
  registered: boolean;
  warnings: string[];
}

interface NetworkConfBefore {
  /** network.conf's content then, or null when there was none. */
  file: string | null;
}

const paths = (inputs: FirewallBackendInputs) => sharedChangePaths(inputs.stateDir, "firewall-backend");

async function libvirtVersion(conn: HostConnection): Promise<{ text: string; supported: boolean }> {
  const text = (await conn.run(["virsh", "--version"])).stdout.trim();
  const version = parseLibvirtVersion(text);
  if (!version) throw new Error(`cannot read libvirt's version from \`virsh --version\` on ${conn.description} ("${text}"): is libvirt installed?`);
  return { text, supported: hasFirewallBackendSetting(version) };
}

function skipWarning(inputs: FirewallBackendInputs, version: string): string {
  return `libvirt ${version} has no firewall_backend setting (it came in libvirt ${FIREWALL_BACKEND_SINCE.join(".")}) and always uses iptables: ${inputs.networkConf} left as it is`;
}

export async function inspectFirewallBackend(conn: HostConnection, inputs: FirewallBackendInputs): Promise<FirewallBackendState> {
  const version = await libvirtVersion(conn);
  return {
    ...inputs,
    libvirtVersion: version.text,
    supported: version.supported,
    backend: firewallBackendOf(await readFileIfExists(conn, inputs.networkConf)) ?? null,
    registered: await isUser(conn, paths(inputs), inputs.user),
    warnings: version.supported ? [] : [skipWarning(inputs, version.text)],
  };
}

export async function setFirewallBackend(conn: HostConnection, inputs: FirewallBackendInputs): Promise<FirewallBackendState> {
  const state = await inspectFirewallBackend(conn, inputs);
  if (!state.supported) return state;
  const content = await readFileIfExists(conn, inputs.networkConf);
  await recordPrevious<NetworkConfBefore>(conn, paths(inputs), async () => ({ file: content ?? null }));
  const warnings: string[] = [];
  if (firewallBackendOf(content) !== FIREWALL_BACKEND) {
    await writeFile(conn, inputs.networkConf, withFirewallBackend(content, FIREWALL_BACKEND));
    warnings.push(
      `${inputs.networkConf} now sets firewall_backend = "${FIREWALL_BACKEND}": libvirt reads it when its network driver starts, so restart libvirtd (or virtnetworkd) if it was running`,
    );
  }
  await addUser(conn, paths(inputs), inputs.user);
  return { ...state, backend: FIREWALL_BACKEND, registered: true, warnings };
}

/** Unregisters this stack; the last one puts network.conf back as the first one found it. */
export async function releaseFirewallBackend(conn: HostConnection, inputs: FirewallBackendInputs): Promise<void> {
  const left = await removeUser<NetworkConfBefore>(conn, paths(inputs), inputs.user);
  if (!left.last) return;
  // No record: this libvirt had no setting, so nothing was changed.
  if (left.previous) {
    if (left.previous.file === null) await removeFile(conn, inputs.networkConf);
    else await writeFile(conn, inputs.networkConf, left.previous.file);
  }
  await forgetPrevious(conn, paths(inputs));
}

export const firewallBackendProvider = hostSettingProvider<FirewallBackendInputs, FirewallBackendState>({
  what: "firewall backend",
  idPrefix: "firewall-backend",
  user: (inputs) => inputs.user,
  replaceKeys: ["user", "networkConf", "stateDir"],
  inspect: inspectFirewallBackend,
  apply: setFirewallBackend,
  restore: releaseFirewallBackend,
  drift: (olds) => olds.supported && (olds.backend !== FIREWALL_BACKEND || !olds.registered),
});

export interface FirewallBackendArgs {
  connection: pulumi.Input<ConnectionSpec>;
  /** Marker name of this stack among the users of the setting; default `<project>.<stack>`. */
  user?: pulumi.Input<string>;
  /** Default `/etc/libvirt/network.conf`. */
  networkConf?: pulumi.Input<string>;
  /** vm-cluster's folder for markers and the file before; default `/var/lib/vm-cluster` (removed when empty). */
  stateDir?: pulumi.Input<string>;
}

/** `firewall_backend = "iptables"` in libvirt's network.conf where libvirt has it (10.4+). */
export class FirewallBackend extends DynamicResource {
  declare readonly libvirtVersion: pulumi.Output<string>;
  declare readonly supported: pulumi.Output<boolean>;
  declare readonly backend: pulumi.Output<string | null>;
  declare readonly registered: pulumi.Output<boolean>;
  declare readonly warnings: pulumi.Output<string[]>;

  constructor(name: string, args: FirewallBackendArgs, opts?: pulumi.CustomResourceOptions) {
    const inputs = {
      connection: args.connection,
      user: args.user ?? defaultUser(),
      networkConf: args.networkConf ?? DEFAULT_NETWORK_CONF,
      stateDir: args.stateDir ?? DEFAULT_STATE_DIR,
    };
    const props = settingProps(inputs, ["libvirtVersion", "supported", "backend", "registered", "warnings"]);
    super(firewallBackendProvider, name, props, deleteFirst(opts), "vm-cluster", "FirewallBackend");
    showWarnings(this, this.warnings);
  }
}
