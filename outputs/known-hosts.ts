// known_hosts for the VMs: their host keys are generated before first boot, so users can
// keep StrictHostKeyChecking on from the very first connection.
import type { ClusterModel } from "../model/cluster-model";
import { parsePublicKey } from "../model/ssh-key";
import { jumpHosts } from "./jump-hosts";

/**
 * One `<ip>,<name>,<fqdn> <type> <base64>` line per host key, then the VM hosts' own keys where
 * the VMs are reached through them. `hostKeys` maps each VM name to its
 * public host keys (`type base64 [comment]`); every VM must have at least one.
 */
export function knownHosts(model: Pick<ClusterModel, "cluster" | "vms" | "sites">, hostKeys: Readonly<Record<string, readonly string[]>>): string {
  const unknown = Object.keys(hostKeys).filter((name) => !model.vms.some((vm) => vm.name === name));
  if (unknown.length > 0) throw new Error(`host keys given for VMs that are not in the cluster: ${unknown.join(", ")}`);
  const lines = model.vms.flatMap((vm) => {
    const keys = hostKeys[vm.name] ?? [];
    if (keys.length === 0) throw new Error(`no host key for VM ${vm.name}`);
    return keys.map((text) => {
      const key = parsePublicKey(text);
      if (!key.ok) throw new Error(`host key of VM ${vm.name} is not an SSH public key: ${key.reason}`);
      return `${vm.ip},${vm.name},${vm.fqdn} ${key.value.type} ${key.value.base64}`;
    });
  });
  // The VM hosts reached through, where their keys are known.
  const hosts = jumpHosts(model).flatMap((jump) => (jump.knownHostsLine === undefined ? [] : [jump.knownHostsLine]));
  return `${[...lines, ...hosts].join("\n")}\n`;
}
