// MAC addresses: stable ones derived per VM, and the rules for configured ones.
import { createHash } from "node:crypto";

/** QEMU/KVM's locally administered prefix, which libvirt uses for its own generated MACs. */
export const MAC_PREFIX = "52:54:00";

/**
 * A MAC that stays the same for (cluster, vm) across `up`s and hosts, so DHCP reservations
 * and the guest's view of its NIC survive a VM being replaced.
 */
export function stableMac(cluster: string, vm: string): string {
  // ":" appears in neither name, so distinct pairs hash distinct inputs.
  const digest = createHash("sha256").update(`${cluster}:${vm}`).digest();
  const tail = [...digest.subarray(0, 3)].map((b) => b.toString(16).padStart(2, "0"));
  return [MAC_PREFIX, ...tail].join(":");
}

/** Lowercased `xx:xx:xx:xx:xx:xx`, or undefined when the text is not in that form. */
export function parseMac(text: string): string | undefined {
  return /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(text) ? text.toLowerCase() : undefined;
}

/**
 * A NIC address must be unicast (I/G bit clear); requiring the locally administered bit
 * (U/L set) keeps it out of every vendor's range, so it cannot clash with real hardware.
 */
export function isLocalUnicastMac(mac: string): boolean {
  const first = parseInt(mac.slice(0, 2), 16);
  return (first & 1) === 0 && (first & 2) === 2;
}
