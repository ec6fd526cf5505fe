import { describe, expect, it } from "vitest";
import {
  checkVirtualization,
  cpuVirtualization,
  kvmDeviceProblem,
  parseDeviceStat,
  verdict,
  virtualizationCheckProvider,
  virtualizationProblems,
  type VirtualizationCheckState,
} from "../../host";
import { FakeConnection } from "./host-fake-connection";

const intel = [
  "Architecture:            x86_64",
  "Vendor ID:               GenuineIntel",
  "Virtualization:          VT-x",
  "Flags:                   fpu vme vmx sse2",
].join("\n");
const amd = ["Vendor ID:               AuthenticAMD", "Virtualization:          AMD-V", "Flags:                   fpu svm"].join("\n");
// This test bed: a KVM guest without nested virtualization (no Virtualization: line, no vmx/svm).
const guest = [
  "Vendor ID:                               AuthenticAMD",
  "Flags:                                   fpu vme hypervisor lahf_lm",
  "Hypervisor vendor:                       KVM",
  "Virtualization type:                     full",
].join("\n");
const kvmOk = { kind: "character special file", group: "kvm", mode: "660" };

describe("cpuVirtualization", () => {
  it("reads the Virtualization: line as the seed does", () => {
    expect(cpuVirtualization(intel)).toBe("VT-x");
    expect(cpuVirtualization(amd)).toBe("AMD-V");
  });
  it("falls back to the vmx / svm flags", () => {
    expect(cpuVirtualization("Flags: fpu vmx")).toBe("VT-x");
    expect(cpuVirtualization("Flags: fpu svm sse")).toBe("AMD-V");
  });
  it("does not take the hypervisor's 'Virtualization type' for the CPU's", () => {
    expect(cpuVirtualization(guest)).toBeUndefined();
  });
});

describe("kvmDeviceProblem", () => {
  it("accepts the kvm group with rw, or rw for everyone", () => {
    expect(kvmDeviceProblem("/dev/kvm", kvmOk)).toBeUndefined();
    expect(kvmDeviceProblem("/dev/kvm", { ...kvmOk, group: "root", mode: "666" })).toBeUndefined();
  });
  it("names the missing device and the module to load", () => {
    expect(kvmDeviceProblem("/dev/kvm", undefined)).toMatch(/\/dev\/kvm does not exist.*modprobe kvm_intel.*modprobe kvm_amd/);
  });
  it("gives the udev fix for wrong permissions", () => {
    expect(kvmDeviceProblem("/dev/kvm", { ...kvmOk, group: "root", mode: "600" })).toMatch(/chgrp kvm \/dev\/kvm && chmod 0660 \/dev\/kvm/);
  });
  it("rejects something that is not a character device", () => {
    expect(kvmDeviceProblem("/dev/kvm", { ...kvmOk, kind: "regular file" })).toMatch(/is a regular file, not the KVM character device/);
  });
  it("parses stat's output", () => {
    expect(parseDeviceStat("character special file|kvm|660\n")).toEqual(kvmOk);
  });
});

describe("verdict", () => {
  it("kvm without problems passes silently", () => {
    expect(verdict("kvm", [])).toEqual({ warnings: [] });
  });
  it("kvm with problems is an error that says what is missing, how to fix it, and the qemu way out", () => {
    const { error } = verdict("kvm", virtualizationProblems(undefined, kvmDeviceProblem("/dev/kvm", undefined)));
    expect(error).toMatch(/cannot run KVM guests/);
    expect(error).toMatch(/no VT-x \/ AMD-V.*enable Intel VT-x or AMD-V/);
    expect(error).toMatch(/\/dev\/kvm does not exist/);
    expect(error).toMatch(/domainType: qemu/);
  });
  it("qemu runs anyway, with a warning that carries the problems", () => {
    const v = verdict("qemu", ["no KVM here"]);
    expect(v.error).toBeUndefined();
    expect(v.warnings).toEqual([expect.stringMatching(/software emulation.*no KVM here/)]);
  });
});

function host(lscpu: string, stat: string | undefined): FakeConnection {
  return new FakeConnection((argv) => {
    if (argv[0] === "lscpu") return { stdout: lscpu };
    if (argv[0] === "stat") return stat === undefined ? { code: 1, stderr: "No such file" } : { stdout: stat };
    throw new Error(`unexpected ${argv.join(" ")}`);
  });
}

describe("checkVirtualization", () => {
  const inputs = { connection: { type: "local" as const }, domainType: "kvm" as const, kvmDevice: "/dev/kvm" };

  it("passes on a KVM host and changes nothing", async () => {
    const conn = host(intel, "character special file|kvm|660");
    const state = await checkVirtualization(conn, inputs);
    expect(state).toMatchObject({ cpuVirtualization: "VT-x", kvmUsable: true, problems: [], warnings: [] });
    expect(conn.calls.map((a) => a[0])).toEqual(["lscpu", "stat"]);
  });
  it("fails without KVM, naming the host", async () => {
    await expect(checkVirtualization(host(guest, undefined), inputs)).rejects.toThrow(/cannot run KVM guests.*\(checked on the fake host\)/s);
  });
  it("warns instead with domainType qemu", async () => {
    const state = await checkVirtualization(host(guest, undefined), { ...inputs, domainType: "qemu" });
    expect(state.kvmUsable).toBe(false);
    expect(state.warnings[0]).toMatch(/software emulation/);
  });
});

describe("virtualizationCheckProvider.diff", () => {
  const olds: VirtualizationCheckState = {
    connection: { type: "local", netns: "t" },
    domainType: "kvm",
    kvmDevice: "/dev/kvm",
    cpuVirtualization: "VT-x",
    kvmUsable: true,
    problems: [],
    warnings: [],
  };
  const news = { connection: { type: "local" as const, netns: "t" }, domainType: "kvm" as const, kvmDevice: "/dev/kvm" };

  it("shows no change for the same inputs (so a code upgrade is not an update)", async () => {
    expect((await virtualizationCheckProvider.diff!("id", olds, news)).changes).toBe(false);
  });
  it("re-checks a kvm host that lost KVM, and a changed domain type", async () => {
    expect((await virtualizationCheckProvider.diff!("id", { ...olds, kvmUsable: false }, news)).changes).toBe(true);
    expect((await virtualizationCheckProvider.diff!("id", olds, { ...news, domainType: "qemu" })).changes).toBe(true);
  });
  it("replaces for another host, updates for another way to reach the same one", async () => {
    expect((await virtualizationCheckProvider.diff!("id", olds, { ...news, connection: { type: "local", netns: "u" } })).replaces).toEqual(["connection"]);
    const sudo = await virtualizationCheckProvider.diff!("id", olds, { ...news, connection: { type: "local", netns: "t", sudo: true } });
    expect(sudo).toMatchObject({ changes: true, replaces: [] });
  });
});
