// The host packages vm-cluster needs, by distribution family; only missing ones are installed.
// Destroy leaves them installed: other software may use them, and removing packages is the
// host owner's call, not a cluster's.
import { deleteFirst } from "../provider/delete-first";
import * as pulumi from "../provider/pulumi";
import type { ConnectionSpec, HostConnection } from "../transport/connection";
import { distroFamily, installCommands, installedQuery, missingPackages, parseOsRelease, PACKAGES, type DistroFamily } from "./distro";
import { readFileIfExists } from "../transport/files";
import { hostSettingProvider, settingProps } from "./host-setting";
import { DynamicResource } from "../provider/dynamic-resource";

/** A package install downloads from a mirror: slower than any other host command. */
const INSTALL_SECONDS = 3600;

export interface HostPackagesInputs {
  connection: ConnectionSpec;
}

export interface HostPackagesState extends HostPackagesInputs {
  family: DistroFamily;
  /** PRETTY_NAME of /etc/os-release. */
  distro: string;
  /** What vm-cluster needs on this family. */
  packages: string[];
  /** Of those, what is not installed now. */
  missing: string[];
  /** What this resource installed (informative: destroy keeps them). */
  installed: string[];
}

export async function detectDistro(conn: HostConnection): Promise<{ family: DistroFamily; distro: string }> {
  const text = (await readFileIfExists(conn, "/etc/os-release")) ?? (await readFileIfExists(conn, "/usr/lib/os-release"));
  if (text === undefined) {
    throw new Error(
      `${conn.description} has no /etc/os-release: cannot tell its distribution; install the equivalents of ${PACKAGES.debian.join(", ")} (Debian names) by hand`,
    );
  }
  const osRelease = parseOsRelease(text);
  const distro = osRelease.PRETTY_NAME ?? osRelease.ID ?? "unknown";
  const family = distroFamily(osRelease);
  if (!family) {
    throw new Error(
      `${conn.description} runs ${distro} (ID=${osRelease.ID ?? ""}, ID_LIKE=${osRelease.ID_LIKE ?? ""}), which vm-cluster does not know: ` +
        `it knows Debian/Ubuntu, Fedora/RHEL and Arch; install the equivalents of ${PACKAGES.debian.join(", ")} (Debian names) by hand`,
    );
  }
  return { family, distro };
}

export async function findMissing(conn: HostConnection, family: DistroFamily, packages: readonly string[]): Promise<string[]> {
  const query = installedQuery(family, packages);
  return missingPackages(family, packages, (await conn.run(query.argv, { okCodes: query.okCodes })).stdout);
}

export async function inspectPackages(conn: HostConnection, inputs: HostPackagesInputs, installed: string[]): Promise<HostPackagesState> {
  const { family, distro } = await detectDistro(conn);
  const packages = [...PACKAGES[family]];
  return { ...inputs, family, distro, packages, missing: await findMissing(conn, family, packages), installed };
}

/** Installs what is missing and checks that nothing still is. */
export async function ensurePackages(conn: HostConnection, inputs: HostPackagesInputs, installedBefore: string[]): Promise<HostPackagesState> {
  const state = await inspectPackages(conn, inputs, installedBefore);
  if (state.missing.length === 0) return state;
  for (const argv of installCommands(state.family, state.missing)) await conn.run(argv, { timeoutSeconds: INSTALL_SECONDS });
  const still = await findMissing(conn, state.family, state.missing);
  if (still.length > 0) {
    throw new Error(
      `${still.join(", ")} still not installed on ${conn.description} after the package manager succeeded: check its repositories (e.g. a disabled one)`,
    );
  }
  return { ...state, missing: [], installed: [...new Set([...installedBefore, ...state.missing])] };
}

// No restore: packages stay installed (see the file comment).
export const hostPackagesProvider = hostSettingProvider<HostPackagesInputs, HostPackagesState>({
  what: "host packages",
  idPrefix: "packages",
  replaceKeys: [],
  inspect: (conn, props) => inspectPackages(conn, props, props.installed),
  apply: (conn, inputs, olds) => ensurePackages(conn, inputs, olds?.installed ?? []),
  // PACKAGES[olds.family]: a newer vm-cluster that needs another package installs it.
  drift: (olds) => olds.missing.length > 0 || PACKAGES[olds.family].join(" ") !== olds.packages.join(" "),
});

export interface HostPackagesArgs {
  connection: pulumi.Input<ConnectionSpec>;
}

/** libvirt, QEMU, dnsmasq, iptables, curl and an SSH client, installed where missing; kept on destroy. */
export class HostPackages extends DynamicResource {
  declare readonly family: pulumi.Output<DistroFamily>;
  declare readonly distro: pulumi.Output<string>;
  declare readonly packages: pulumi.Output<string[]>;
  declare readonly missing: pulumi.Output<string[]>;
  declare readonly installed: pulumi.Output<string[]>;

  constructor(name: string, args: HostPackagesArgs, opts?: pulumi.CustomResourceOptions) {
    const props = settingProps({ connection: args.connection }, ["family", "distro", "packages", "missing", "installed"]);
    super(hostPackagesProvider, name, props, deleteFirst(opts), "vm-cluster", "HostPackages");
  }
}
