// The NoCloud network-config (version 2): DHCP on the VM's NIC. The address is fixed by the
// network's DHCP reservation for this MAC, so the guest needs no static configuration.
import type * as pulumi from "@pulumi/pulumi";
import { parseMac } from "../model/mac";
import { misuse } from "./misuse";
import { toYaml } from "./yaml";

export interface NetworkConfigArgs {
  /** The MAC of the VM's NIC in the domain XML, `xx:xx:xx:xx:xx:xx`. */
  readonly macAddress: string;
}

/** Only an id inside the document: cloud-init finds the interface by MAC and keeps the kernel's name for it. */
export const NIC_ID = "primary";

export function networkConfig(args: NetworkConfigArgs, parent?: pulumi.Resource): string {
  const mac = parseMac(args.macAddress);
  if (mac === undefined) misuse(`MAC address "${args.macAddress}" is not in the form xx:xx:xx:xx:xx:xx`, parent);
  return toYaml({
    version: 2,
    ethernets: { [NIC_ID]: { match: { macaddress: mac }, dhcp4: true } },
  });
}
