// What one VM may ask of its host: no more memory than the host has in all, no more vCPUs than it
// has CPUs. libvirt would take such a domain and fail only at start (or QEMU would page the host to
// a halt), so the check is made at preview, where it names the config key.
import type * as pulumi from "@pulumi/pulumi";
import { isUnknown } from "./unknown";
import { parseInfo, virsh, type LibvirtTarget } from "./virsh";

export interface HostCapacity {
  cpus: number;
  memoryMiB: number;
}

/** `virsh nodeinfo`'s CPU count and memory size. */
export function parseNodeInfo(stdout: string): HostCapacity | undefined {
  const info = parseInfo(stdout);
  const cpus = Number(info["CPU(s)"]);
  const kib = /^(\d+) KiB$/.exec(info["Memory size"] ?? "")?.[1];
  return Number.isInteger(cpus) && cpus > 0 && kib !== undefined ? { cpus, memoryMiB: Math.floor(Number(kib) / 1024) } : undefined;
}

/**
 * The host's capacity; undefined when libvirt cannot tell yet (a host that `up` is still to
 * prepare): then create's own errors speak. Not cached: a provider's module state is serialized
 * with it, and a Map does not survive that; check asks only when sizes are new.
 */
export async function hostCapacity(t: LibvirtTarget): Promise<HostCapacity | undefined> {
  // A connection with parts still unknown (preview): not a host to ask yet.
  if (typeof t?.connection !== "object" || t.connection === null || Object.values(t.connection).some(isUnknown)) return undefined;
  return virsh(t, ["nodeinfo"]).then((r) => parseNodeInfo(r.stdout), () => undefined);
}

/** What is wrong with `vm` asking for `memoryMiB` and `vcpus` on a host of `capacity`. */
export function capacityFailures(capacity: HostCapacity, vm: string, memoryMiB: number, vcpus: number): pulumi.dynamic.CheckFailure[] {
  const failures: pulumi.dynamic.CheckFailure[] = [];
  if (memoryMiB > capacity.memoryMiB) {
    failures.push({
      property: "memoryMiB",
      reason: `${vm} asks for ${memoryMiB} MiB of memory (vm-cluster:vms[].memoryMiB of ${vm}, or defaults.memoryMiB) and the VM host has ${capacity.memoryMiB} MiB in all: give it at most that, or use a larger host`,
    });
  }
  if (vcpus > capacity.cpus) {
    failures.push({
      property: "vcpus",
      reason: `${vm} asks for ${vcpus} vCPUs (vm-cluster:vms[].vcpus of ${vm}, or defaults.vcpus) and the VM host has ${capacity.cpus} CPUs: give it at most ${capacity.cpus}`,
    });
  }
  return failures;
}
