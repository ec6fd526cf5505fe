// One-line commands shown as stack outputs.
import type { ClusterModel, VmModel } from "../model/cluster-model";
import { cidrContains, parseCidr, parseIpv4 } from "../model/ipv4";
import { shellQuote } from "../transport/command";

export interface SshCommandOptions {
  readonly knownHostsPath?: string;
  readonly identityFile?: string;
}

export function sshCommand(vm: Pick<VmModel, "ip">, options: SshCommandOptions = {}): string {
  // ssh expands a leading ~ in these paths itself, so quoting them loses nothing.
  const argv = ["ssh"];
  if (options.identityFile !== undefined) argv.push("-i", options.identityFile);
  if (options.knownHostsPath !== undefined) argv.push("-o", `UserKnownHostsFile=${options.knownHostsPath}`, "-o", "StrictHostKeyChecking=yes");
  argv.push(`root@${vm.ip}`);
  return shellQuote(argv);
}

/** Serial console of the VM; run it on the VM host. */
export function consoleCommand(vm: Pick<VmModel, "domain">): string {
  return `virsh -c qemu:///system console ${vm.domain}`;
}

/**
 * The route a LAN client needs to reach the cluster network through the VM host. Without the
 * host's LAN address the line keeps a placeholder for the user to fill in.
 */
export function staticRouteCommand(model: Pick<ClusterModel, "network" | "lan">, hostLanIp?: string): string {
  if (hostLanIp !== undefined) {
    const address = parseIpv4(hostLanIp);
    if (address === undefined || !cidrContains(parseCidr(model.lan.subnet)!, address)) {
      throw new Error(`host LAN address ${hostLanIp} is not an IPv4 address in lan.subnet ${model.lan.subnet}`);
    }
  }
  return `ip route add ${model.network.cidr} via ${hostLanIp ?? "<vm-host-lan-ip>"}`;
}
