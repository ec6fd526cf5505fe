// net.ipv4.ip_forward=1, set now and persisted in a sysctl.d file of its own: the host routes the
// cluster's NAT traffic. Shared by every stack on the host: the last one to leave restores the
// value and the file as they were before the first one came.
import { deleteFirst } from "../provider/delete-first";
import { posix } from "node:path";
import * as pulumi from "../provider/pulumi";
import type { ConnectionSpec, HostConnection } from "../transport/connection";
import { readFileIfExists, removeFile, writeFile } from "../transport/files";
import { hostSettingProvider, settingProps } from "./host-setting";
import { addUser, DEFAULT_STATE_DIR, defaultUser, forgetPrevious, isUser, recordPrevious, removeUser, sharedChangePaths } from "./shared-change";
import { DynamicResource } from "../provider/dynamic-resource";

export const IP_FORWARD = "net.ipv4.ip_forward";
export const DEFAULT_SYSCTL_DIR = "/etc/sysctl.d";
/** 60-: after the distribution's defaults (10-, 50-), before the admin's usual 99-sysctl.conf. */
export const IP_FORWARD_FILE = "60-vm-cluster-ip-forward.conf";

export function ipForwardFileContent(): string {
  return [
    "# vm-cluster: libvirt NAT networks route the clusters' traffic through this host.",
    "# The last vm-cluster stack's destroy removes this file and restores the previous value.",
    `${IP_FORWARD} = 1`,
    "",
  ].join("\n");
}

export interface IpForwardInputs {
  connection: ConnectionSpec;
  /** This stack's marker name (default `<project>.<stack>`). */
  user: string;
  sysctlDir: string;
  stateDir: string;
}

export interface IpForwardState extends IpForwardInputs {
  /** The live value (per network namespace). */
  value: string;
  /** Whether our sysctl.d file holds what we wrote. */
  persisted: boolean;
  /** Whether this stack's marker is there. */
  registered: boolean;
}

/** What the first user found: restored by the last one. */
interface IpForwardBefore {
  value: string;
  /** Our sysctl.d file's content then, or null when there was none. */
  file: string | null;
}

const paths = (inputs: IpForwardInputs) => sharedChangePaths(inputs.stateDir, "ip-forward");
const sysctlFile = (inputs: IpForwardInputs) => posix.join(inputs.sysctlDir, IP_FORWARD_FILE);

async function currentValue(conn: HostConnection): Promise<string> {
  return (await conn.run(["sysctl", "-n", IP_FORWARD])).stdout.trim();
}

async function setValue(conn: HostConnection, value: string): Promise<void> {
  if (!/^[0-9]+$/.test(value)) throw new Error(`refusing to set ${IP_FORWARD} to "${value}": not a number`);
  await conn.run(["sysctl", "-q", "-w", `${IP_FORWARD}=${value}`]);
}

export async function inspectIpForward(conn: HostConnection, inputs: IpForwardInputs): Promise<IpForwardState> {
  return {
    ...inputs,
    value: await currentValue(conn),
    persisted: (await readFileIfExists(conn, sysctlFile(inputs))) === ipForwardFileContent(),
    registered: await isUser(conn, paths(inputs), inputs.user),
  };
}

export async function enableIpForward(conn: HostConnection, inputs: IpForwardInputs): Promise<IpForwardState> {
  await recordPrevious<IpForwardBefore>(conn, paths(inputs), async () => ({
    value: await currentValue(conn),
    file: (await readFileIfExists(conn, sysctlFile(inputs))) ?? null,
  }));
  await writeFile(conn, sysctlFile(inputs), ipForwardFileContent());
  await setValue(conn, "1");
  await addUser(conn, paths(inputs), inputs.user);
  return { ...inputs, value: "1", persisted: true, registered: true };
}

/** Unregisters this stack; the last one restores the value and the file. */
export async function releaseIpForward(conn: HostConnection, inputs: IpForwardInputs): Promise<void> {
  const left = await removeUser<IpForwardBefore>(conn, paths(inputs), inputs.user);
  if (!left.last) return;
  const before = left.previous;
  // Without a record the value before is unknown: keep it, drop only our file.
  if (before) await setValue(conn, before.value);
  if (before?.file) await writeFile(conn, sysctlFile(inputs), before.file);
  else await removeFile(conn, sysctlFile(inputs));
  await forgetPrevious(conn, paths(inputs));
}

export const ipForwardProvider = hostSettingProvider<IpForwardInputs, IpForwardState>({
  what: "IPv4 forwarding",
  idPrefix: "ip-forward",
  user: (inputs) => inputs.user,
  replaceKeys: ["user", "sysctlDir", "stateDir"],
  inspect: inspectIpForward,
  apply: enableIpForward,
  restore: releaseIpForward,
  drift: (olds) => olds.value !== "1" || !olds.persisted || !olds.registered,
});

export interface IpForwardArgs {
  connection: pulumi.Input<ConnectionSpec>;
  /** Marker name of this stack among the users of the setting; default `<project>.<stack>`. */
  user?: pulumi.Input<string>;
  /** Default `/etc/sysctl.d`. */
  sysctlDir?: pulumi.Input<string>;
  /** vm-cluster's folder for markers and the value before; default `/var/lib/vm-cluster` (removed when empty). */
  stateDir?: pulumi.Input<string>;
}

/** IPv4 forwarding on, now and at boot; the previous value comes back when the last stack is destroyed. */
export class IpForward extends DynamicResource {
  declare readonly value: pulumi.Output<string>;
  declare readonly persisted: pulumi.Output<boolean>;
  declare readonly registered: pulumi.Output<boolean>;

  constructor(name: string, args: IpForwardArgs, opts?: pulumi.CustomResourceOptions) {
    const inputs = {
      connection: args.connection,
      user: args.user ?? defaultUser(),
      sysctlDir: args.sysctlDir ?? DEFAULT_SYSCTL_DIR,
      stateDir: args.stateDir ?? DEFAULT_STATE_DIR,
    };
    const props = settingProps(inputs, ["value", "persisted", "registered"]);
    super(ipForwardProvider, name, props, deleteFirst(opts), "vm-cluster", "IpForward");
  }
}
