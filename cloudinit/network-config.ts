// The NoCloud network-config (version 2): DHCP on the VM's NIC. The address is fixed by the
// network's DHCP reservation for this MAC, so the guest needs no static configuration.
import { toYaml } from "./yaml";

export interface NetworkConfigArgs {
  /** The MAC of the VM's NIC in the domain XML, as the model has it: lowercase `xx:xx:xx:xx:xx:xx`. */
  readonly macAddress: string;
}

/** Only an id inside the document: cloud-init finds the interface by MAC and keeps the kernel's name for it. */
export const NIC_ID = "primary";

export function networkConfig(args: NetworkConfigArgs): string {
  return toYaml({
    version: 2,
    ethernets: { [NIC_ID]: { match: { macaddress: args.macAddress }, dhcp4: true } },
  });
}
