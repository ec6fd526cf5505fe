// What one VM may ask of its host: no more memory than the host has in all, no more vCPUs than
// libvirt allows one domain of its type. libvirt would take such a domain and fail only at start
// (or QEMU would page the host to a halt), so the check is made at preview, where it names the
// config key. More vCPUs than the host has CPUs is allowed: overcommit is normal for a lab.
import type * as pulumi from "../provider/pulumi";
import { isUnknown } from "../provider/unknown";
import { parseInfo, virsh, type LibvirtTarget } from "./virsh";

export interface HostCapacity {
  memoryMiB: number;
  /** `virsh maxvcpus --type <domain type>`: the most vCPUs one domain may have. */
  maxVcpus: number;
}

/** `virsh nodeinfo`'s memory size. */
export function parseNodeMemory(stdout: string): number | undefined {
  const kib = /^(\d+) KiB$/.exec(parseInfo(stdout)["Memory size"] ?? "")?.[1];
  return kib === undefined ? undefined : Math.floor(Number(kib) / 1024);
}

/**
 * The host's capacity for domains of `type`; undefined when libvirt cannot tell yet (a host that
 * `up` is still to prepare): then create's own errors speak. Not cached: a provider's module state
 * is serialized with it, and a Map does not survive that; check asks only when sizes are new.
 */
export async function hostCapacity(t: LibvirtTarget, type: string): Promise<HostCapacity | undefined> {
  // A connection with parts still unknown (preview): not a host to ask yet.
  if (typeof t?.connection !== "object" || t.connection === null || Object.values(t.connection).some(isUnknown)) return undefined;
  try {
    const [nodeinfo, max] = await Promise.all([virsh(t, ["nodeinfo"]), virsh(t, ["maxvcpus", "--type", type])]);
    const memoryMiB = parseNodeMemory(nodeinfo.stdout);
    const maxVcpus = Number(max.stdout.trim());
    return memoryMiB !== undefined && Number.isInteger(maxVcpus) && maxVcpus > 0 ? { memoryMiB, maxVcpus } : undefined;
  } catch {
    return undefined;
  }
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
  if (vcpus > capacity.maxVcpus) {
    failures.push({
      property: "vcpus",
      reason: `${vm} asks for ${vcpus} vCPUs (vm-cluster:vms[].vcpus of ${vm}, or defaults.vcpus) and libvirt on the VM host allows at most ${capacity.maxVcpus} per VM (virsh maxvcpus): give it at most ${capacity.maxVcpus}`,
    });
  }
  return failures;
}
