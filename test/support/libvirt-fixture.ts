// Per-file access to the test bed's libvirt: starts (or reuses) the daemon, hands out a target
// whose commands run in the daemon's namespace, and stops what it started.
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll } from "vitest";
import type { LibvirtTarget } from "../../libvirt/virsh";
import { LIBVIRT_URI, startLibvirtd, stopLibvirtd, type Libvirtd } from "../../testbed/libvirtd";

export const TEST_NETNS = "vmc-test";

export function useLibvirt(): { target: () => LibvirtTarget; netns: () => string } {
  let daemon: Libvirtd | undefined;
  beforeAll(async () => {
    daemon = await startLibvirtd(TEST_NETNS);
  });
  afterAll(async () => {
    if (daemon) await stopLibvirtd(daemon);
  });
  return {
    target: () => ({ connection: { type: "local", netns: daemon!.netns }, uri: LIBVIRT_URI }),
    netns: () => daemon!.netns,
  };
}

/** virsh on the test bed, for setting up and checking behind the providers' backs. */
export function virshSync(...args: string[]): string {
  return execFileSync("virsh", ["-q", "-c", LIBVIRT_URI, ...args], { encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
}

export function virshOk(...args: string[]): boolean {
  try {
    virshSync(...args);
    return true;
  } catch {
    return false;
  }
}
