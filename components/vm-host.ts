// The VM host, prepared in the seed's order: the virtualization check first (it changes nothing,
// so a host that cannot run the guests is told before anything changes), then packages, the
// libvirt daemon, IPv4 forwarding and libvirt's firewall backend.
import * as pulumi from "../provider/pulumi";
import { FirewallBackend, HostPackages, IpForward, LibvirtDaemon, VirtualizationCheck } from "../host";
import type { ConnectionSpec } from "../transport/connection";
import type { DomainType } from "../libvirt/xml";

export interface VmHostArgs {
  connection: pulumi.Input<ConnectionSpec>;
  domainType: DomainType;
}

export class VmHost extends pulumi.ComponentResource {
  /** Depend on this to run after the host is ready for libvirt objects. */
  readonly ready: pulumi.Resource[];

  constructor(name: string, args: VmHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("vm-cluster:index:VmHost", name, {}, opts);
    const connection = args.connection;
    const check = new VirtualizationCheck(`${name}-virtualization-check`, { connection, domainType: args.domainType }, { parent: this });
    const packages = new HostPackages(`${name}-packages`, { connection }, { parent: this, dependsOn: [check] });
    const daemon = new LibvirtDaemon(`${name}-libvirt-daemon`, { connection }, { parent: this, dependsOn: [packages] });
    const ipForward = new IpForward(`${name}-ip-forward`, { connection }, { parent: this, dependsOn: [daemon] });
    const firewallBackend = new FirewallBackend(`${name}-firewall-backend`, { connection }, { parent: this, dependsOn: [daemon] });
    this.ready = [ipForward, firewallBackend];
    this.registerOutputs({});
  }
}
