// Distribution families and what vm-cluster needs from each: the seed's package list, mapped.
// Dropped from the seed: guestfs-tools, python-lxml, python-dnspython (guests are set up by
// cloud-init, libvirt is driven by virsh), virt-install (domains come from our XML),
// bridge-utils (libvirt makes the bridge), dhclient and openbsd-netcat (not used on the host).
// Added: curl (base image downloads), an SSH client (readiness), iptables (our rules).

export type DistroFamily = "debian" | "redhat" | "arch";

/** KEY=VALUE pairs of /etc/os-release, quotes removed. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    out[m[1]!] = m[2]!.replace(/^(["'])(.*)\1$/, "$2").replace(/\\(["$`\\])/g, "$1");
  }
  return out;
}

const FAMILY_OF_ID: Record<string, DistroFamily> = {
  debian: "debian",
  ubuntu: "debian",
  fedora: "redhat",
  rhel: "redhat",
  centos: "redhat",
  rocky: "redhat",
  almalinux: "redhat",
  arch: "arch",
};

/** ID first, then ID_LIKE in order (Linux Mint: ID=linuxmint, ID_LIKE="ubuntu debian"). */
export function distroFamily(osRelease: Record<string, string>): DistroFamily | undefined {
  const ids = [osRelease.ID ?? "", ...(osRelease.ID_LIKE ?? "").split(/\s+/)];
  for (const id of ids) {
    const family = FAMILY_OF_ID[id.toLowerCase()];
    if (family) return family;
  }
  return undefined;
}

/** Package names per family, in the order: libvirt daemon, virsh, QEMU, qemu-img, dnsmasq, iptables, curl, SSH client. */
export const PACKAGES: Record<DistroFamily, readonly string[]> = {
  // curl downloads the base image on the host; the ssh client is how readiness reaches the guests
  // (the seed ISO is built where Pulumi runs, so xorriso is needed there, not here).
  debian: ["libvirt-daemon-system", "libvirt-clients", "qemu-system-x86", "qemu-utils", "dnsmasq-base", "iptables", "curl", "openssh-client"],
  redhat: ["libvirt-daemon-kvm", "libvirt-client", "qemu-kvm", "qemu-img", "dnsmasq", "iptables", "curl", "openssh-clients"],
  // Arch splits QEMU's firmware off (the seed's qemu-system-x86-firmware).
  arch: ["libvirt", "qemu-system-x86", "qemu-system-x86-firmware", "qemu-img", "dnsmasq", "iptables", "curl", "openssh"],
};

/** The argv that lists what is installed, with the exit codes that only mean "some are missing". */
export function installedQuery(family: DistroFamily, packages: readonly string[]): { argv: string[]; okCodes: number[] } {
  switch (family) {
    case "debian":
      return { argv: ["dpkg-query", "-W", "-f", "${Package}\t${db:Status-Abbrev}\n", ...packages], okCodes: [0, 1] };
    case "redhat":
      // --whatprovides: "iptables" is provided by iptables-nft; the exit code counts the missing ones.
      return { argv: ["rpm", "-q", "--whatprovides", ...packages], okCodes: packages.map((_, i) => i).concat(packages.length) };
    case "arch":
      // -T prints the names no installed package satisfies (provides included), exit 127 if any.
      return { argv: ["pacman", "-T", ...packages], okCodes: [0, 127] };
    default: {
      const never: never = family;
      throw new Error(`unknown distribution family ${String(never)}`);
    }
  }
}

/** Of `packages`, those the query's output says are not installed. */
export function missingPackages(family: DistroFamily, packages: readonly string[], stdout: string): string[] {
  const lines = stdout.split("\n").map((l) => l.trim());
  switch (family) {
    case "debian": {
      // "ii " = wanted and installed; "rc", "un" and absent lines are not installed.
      const installed = new Set(lines.filter((l) => /\tii\s*$/.test(l)).map((l) => l.split("\t")[0]!.split(":")[0]));
      return packages.filter((p) => !installed.has(p));
    }
    case "redhat": {
      const missing = new Set(lines.map((l) => /^no package provides (\S+)$/.exec(l)?.[1]).filter((p) => p !== undefined));
      return packages.filter((p) => missing.has(p));
    }
    case "arch": {
      const missing = new Set(lines);
      return packages.filter((p) => missing.has(p));
    }
    default: {
      const never: never = family;
      throw new Error(`unknown distribution family ${String(never)}`);
    }
  }
}

/** Commands that install `packages`, run in order. */
export function installCommands(family: DistroFamily, packages: readonly string[]): string[][] {
  switch (family) {
    case "debian":
      return [
        ["apt-get", "update"],
        ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "--no-install-recommends", ...packages],
      ];
    case "redhat":
      return [["dnf", "install", "-y", ...packages]];
    case "arch":
      return [["pacman", "-S", "--needed", "--noconfirm", ...packages]];
    default: {
      const never: never = family;
      throw new Error(`unknown distribution family ${String(never)}`);
    }
  }
}
