import { describe, expect, it } from "vitest";
import {
  distroFamily,
  ensurePackages,
  hostPackagesProvider,
  installCommands,
  installedQuery,
  missingPackages,
  PACKAGES,
  parseOsRelease,
  type HostPackagesState,
} from "../../host";
import { FakeConnection } from "./host-fake-connection";

const bookworm = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\nHOME_URL="https://www.debian.org/"\n`;

describe("os-release", () => {
  it("parses KEY=VALUE with and without quotes", () => {
    expect(parseOsRelease(bookworm)).toMatchObject({ PRETTY_NAME: "Debian GNU/Linux 12 (bookworm)", ID: "debian", VERSION_ID: "12" });
    expect(parseOsRelease(`NAME='Arch Linux'\nID=arch\n# comment\n`)).toEqual({ NAME: "Arch Linux", ID: "arch" });
  });

  it.each([
    ["ID=debian", "debian"],
    ["ID=ubuntu\nID_LIKE=debian", "debian"],
    ['ID=linuxmint\nID_LIKE="ubuntu debian"', "debian"],
    ["ID=fedora", "redhat"],
    ['ID="rhel"\nID_LIKE="fedora"', "redhat"],
    ['ID="rocky"\nID_LIKE="rhel centos fedora"', "redhat"],
    ["ID=arch", "arch"],
    ["ID=manjaro\nID_LIKE=arch", "arch"],
    ['ID=opensuse-tumbleweed\nID_LIKE="opensuse suse"', undefined],
  ])("%s -> %s", (text, family) => {
    expect(distroFamily(parseOsRelease(text))).toBe(family);
  });
});

describe("package mapping", () => {
  it("has what the project uses on every family and none of the seed's leftovers", () => {
    for (const packages of Object.values(PACKAGES)) {
      expect(packages.length).toBe(8);
      for (const unused of [
        "guestfs-tools",
        "libguestfs-tools",
        "python-lxml",
        "virt-install",
        "bridge-utils",
        "dhclient",
        "openbsd-netcat",
        "python-dnspython",
      ]) {
        expect(packages).not.toContain(unused);
      }
    }
    expect(PACKAGES.debian).toEqual([
      "libvirt-daemon-system",
      "libvirt-clients",
      "qemu-system-x86",
      "qemu-utils",
      "dnsmasq-base",
      "iptables",
      "curl",
      "openssh-client",
    ]);
    expect(PACKAGES.arch).toContain("qemu-system-x86-firmware");
  });

  it("reads dpkg-query: only 'ii' is installed", () => {
    const q = installedQuery("debian", ["a", "b", "c"]);
    expect(q).toEqual({ argv: ["dpkg-query", "-W", "-f", "${Package}\t${db:Status-Abbrev}\n", "a", "b", "c"], okCodes: [0, 1] });
    expect(missingPackages("debian", ["a", "b", "c"], "a\tii \nb\trc \n")).toEqual(["b", "c"]);
  });

  it("reads rpm --whatprovides: a capability like iptables counts", () => {
    expect(installedQuery("redhat", ["a", "b"]).okCodes).toEqual([0, 1, 2]);
    expect(missingPackages("redhat", ["iptables", "xorriso"], "iptables-nft-1.8.10-4.fc40.x86_64\nno package provides xorriso\n")).toEqual(["xorriso"]);
  });

  it("reads pacman -T: it prints what is not satisfied", () => {
    expect(installedQuery("arch", ["a"]).argv).toEqual(["pacman", "-T", "a"]);
    expect(missingPackages("arch", ["libvirt", "dnsmasq"], "dnsmasq\n")).toEqual(["dnsmasq"]);
  });

  it("installs non-interactively", () => {
    expect(installCommands("debian", ["x"])).toEqual([
      ["apt-get", "update"],
      ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "--no-install-recommends", "x"],
    ]);
    expect(installCommands("redhat", ["x"])).toEqual([["dnf", "install", "-y", "x"]]);
    expect(installCommands("arch", ["x"])).toEqual([["pacman", "-S", "--needed", "--noconfirm", "x"]]);
  });
});

/** A Debian host where `installed` are installed and apt-get installs what it is asked for (unless it "cannot"). */
function debianHost(installed: Set<string>, cannot: string[] = []): FakeConnection {
  return new FakeConnection((argv) => {
    if (argv[0] === "test") return { code: argv[2] === "/etc/os-release" ? 0 : 1 };
    if (argv[0] === "cat") return { stdout: bookworm };
    if (argv[0] === "dpkg-query")
      return {
        stdout: argv
          .slice(4)
          .filter((p) => installed.has(p))
          .map((p) => `${p}\tii \n`)
          .join(""),
        code: 1,
      };
    if (argv[0] === "apt-get") return {};
    if (argv[0] === "env") {
      for (const p of argv.slice(6)) if (!cannot.includes(p)) installed.add(p);
      return {};
    }
    throw new Error(`unexpected ${argv.join(" ")}`);
  });
}

describe("ensurePackages", () => {
  const inputs = { connection: { type: "local" as const } };

  it("installs only the missing ones", async () => {
    const conn = debianHost(new Set(PACKAGES.debian.filter((p) => p !== "openssh-client" && p !== "curl")));
    const state = await ensurePackages(conn, inputs, []);
    expect(conn.callsOf("env")).toEqual([
      ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "--no-install-recommends", "curl", "openssh-client"],
    ]);
    expect(state).toMatchObject({ family: "debian", distro: "Debian GNU/Linux 12 (bookworm)", missing: [], installed: ["curl", "openssh-client"] });
  });

  it("runs no package manager when nothing is missing", async () => {
    const conn = debianHost(new Set(PACKAGES.debian));
    expect((await ensurePackages(conn, inputs, [])).installed).toEqual([]);
    expect(conn.callsOf("apt-get")).toEqual([]);
    expect(conn.callsOf("env")).toEqual([]);
  });

  it("says which are still missing after the package manager", async () => {
    await expect(ensurePackages(debianHost(new Set(), ["curl"]), inputs, [])).rejects.toThrow(/curl still not installed on the fake host/);
  });

  it("names an unknown distribution and what to install by hand", async () => {
    const conn = new FakeConnection((argv) => (argv[0] === "cat" ? { stdout: 'PRETTY_NAME="openSUSE Tumbleweed"\nID=opensuse-tumbleweed\n' } : {}));
    await expect(ensurePackages(conn, inputs, [])).rejects.toThrow(/openSUSE Tumbleweed .*does not know.*libvirt-daemon-system/);
  });
});

describe("hostPackagesProvider.diff", () => {
  const olds: HostPackagesState = {
    connection: { type: "local" },
    family: "debian",
    distro: "Debian",
    packages: [...PACKAGES.debian],
    missing: [],
    installed: [],
  };
  it("no change when nothing is missing", async () => {
    expect((await hostPackagesProvider.diff!("id", olds, { connection: { type: "local" } })).changes).toBe(false);
  });
  it("an update when refresh found a package gone, or the needed list changed", async () => {
    expect((await hostPackagesProvider.diff!("id", { ...olds, missing: ["curl"] }, { connection: { type: "local" } })).changes).toBe(true);
    expect((await hostPackagesProvider.diff!("id", { ...olds, packages: ["libvirt-daemon-system"] }, { connection: { type: "local" } })).changes).toBe(true);
  });
});
