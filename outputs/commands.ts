// One-line commands shown as stack outputs.
import type { SiteModel, VmModel } from "../model/cluster-model";
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
 * The route a LAN client needs to reach a host's part of the cluster network through that host.
 * Without the host's LAN address (`lan.address`) the line keeps a placeholder for the user to fill in.
 */
export function staticRouteCommand(site: Pick<SiteModel, "network" | "lan">): string {
  return `ip route add ${site.network.cidr} via ${site.lan.address ?? "<vm-host-lan-ip>"}`;
}
