// One VM host's part of the cluster: its checks and preparation, storage pool, NAT network, base
// image, and (once its VMs are up) its firewall rules and routes to the other hosts. Its resources
// are the Cluster's children, named `<cluster>-...` for a single host (as they always were) and
// `<cluster>-<host>-...` for an entry of `hosts`, so hosts never wait on each other.
import * as pulumi from "../provider/pulumi";
import { FirewallRules, PeerRoutes } from "../host";
import { BaseImage } from "../libvirt/base-image";
import { NatNetwork } from "../libvirt/network";
import { StoragePool } from "../libvirt/pool";
import type { LibvirtTarget } from "../libvirt/virsh";
import type { Owner } from "../libvirt/xml";
import type { ClusterModel, HostModel, SiteModel } from "../model";
import type { ConnectionSpec } from "../transport/connection";
import type { VirtualMachineArgs } from "./virtual-machine";
import { VmHost } from "./vm-host";

export interface HostSiteArgs {
  model: ClusterModel;
  site: SiteModel;
  owner: Owner;
  /**
   * The prefix this host's resources had before (the single host's `<cluster>`, for the first entry
   * of `hosts`): the engine takes them as the same resources, so moving a running cluster's `host`
   * into `hosts` replaces nothing on it. A child's alias follows from its parent's.
   */
  formerly?: string;
}

/** The host connection as provider input; the SSH private key travels as a secret. */
export function connectionSpec(host: HostModel): pulumi.Output<ConnectionSpec> {
  if (host.type === "local") return pulumi.output({ type: "local" as const, sudo: host.sudo, netns: host.netns });
  return pulumi.secret({
    type: "ssh" as const,
    host: host.host,
    port: host.port,
    user: host.user,
    privateKey: host.privateKey,
    hostKey: host.hostKey.sha256Fingerprint,
    sudo: host.sudo,
  });
}

export class HostSite {
  readonly site: SiteModel;
  /** What a VM on this host takes from it. */
  readonly vmInputs: Pick<VirtualMachineArgs, "target" | "pool" | "poolOwner" | "poolPath" | "networkName" | "basePath" | "baseVirtualSize">;
  private readonly connection: pulumi.Output<ConnectionSpec>;
  private readonly network: NatNetwork;

  constructor(
    private readonly parent: pulumi.ComponentResource,
    private readonly name: string,
    private readonly args: HostSiteArgs,
  ) {
    const { model, site, owner } = args;
    this.site = site;
    const was = (suffix: string) => this.was(suffix);
    this.connection = connectionSpec(site.host);
    const target: pulumi.Output<LibvirtTarget> = this.connection.apply((c) => ({ connection: c }));
    const host = new VmHost(`${name}-host`, { connection: this.connection, domainType: model.domainType }, { parent, ...was("host") });
    const afterHost = { parent, dependsOn: host.ready };
    const pool = new StoragePool(`${name}-pool`, { target, name: model.pool.name, path: model.pool.dir, owner }, { ...afterHost, ...was("pool") });
    const own = model.vms.filter((vm) => vm.site === site.name);
    this.network = new NatNetwork(
      `${name}-network`,
      {
        target,
        name: site.network.name,
        bridge: site.network.bridge,
        address: site.network.gateway,
        netmask: site.network.netmask,
        dhcpStart: site.network.dhcpStart,
        dhcpEnd: site.network.dhcpEnd,
        hosts: own.map((vm) => ({ mac: vm.mac, name: vm.name, ip: vm.ip })),
        domain: site.network.domain,
        // Every VM of the cluster, so names resolve across hosts. The FQDN first: dnsmasq answers
        // reverse lookups with a host's first name.
        dnsHosts: model.vms.map((vm) => ({ ip: vm.ip, hostnames: [vm.fqdn, vm.name] })),
        owner,
      },
      { ...afterHost, ...was("network") },
    );
    const checksum = model.image.checksum;
    const base = new BaseImage(
      `${name}-base-image`,
      {
        target,
        pool: pool.name,
        name: `${model.cluster}-base.qcow2`,
        url: model.image.url,
        fileName: model.image.fileName,
        owner: pool.owner,
        ...(checksum.kind === "sha512" ? { sha512: checksum.sha512 } : { checksumsUrl: checksum.checksumsUrl }),
      },
      { parent, ...was("base-image") },
    );
    this.vmInputs = {
      target,
      pool: pool.name,
      poolOwner: pool.owner,
      poolPath: pool.path,
      networkName: this.network.name,
      basePath: base.path,
      baseVirtualSize: base.virtualSize,
    };
  }

  /** The alias of the resource `<prefix>-<suffix>` had under its former prefix, if any. */
  private was(suffix: string): pulumi.CustomResourceOptions {
    return this.args.formerly === undefined ? {} : { aliases: [{ name: `${this.args.formerly}-${suffix}` }] };
  }

  /** Last, as in the seed: the rules open this host's part of the cluster once `vmsReady` are up. */
  openFirewall(vmsReady: pulumi.Resource[]): void {
    const { model, site } = this.args;
    const peers = model.sites.filter((other) => other !== site);
    const after = { parent: this.parent, dependsOn: vmsReady };
    new FirewallRules(
      `${this.name}-firewall`,
      {
        connection: this.connection,
        cluster: model.cluster,
        lanInterface: site.lan.interface,
        bridge: this.network.bridge,
        clusterCidr: site.network.cidr,
        lanCidr: site.lan.subnet,
        ...(peers.length > 0 && { peerCidrs: peers.map((peer) => peer.network.cidr) }),
      },
      { ...after, ...this.was("firewall") },
    );
    if (peers.length === 0) return;
    new PeerRoutes(
      `${this.name}-routes`,
      {
        connection: this.connection,
        cluster: model.cluster,
        lanInterface: site.lan.interface,
        // The cross-checks made sure every host of several has its LAN address.
        routes: peers.map((peer) => ({ cidr: peer.network.cidr, via: peer.lan.address! })),
      },
      after,
    );
  }
}
