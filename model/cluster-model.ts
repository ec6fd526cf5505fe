// The validated, fully resolved cluster: defaults applied, files read, names derived.
// Components consume only this, never raw config.
import type { CloudConfig } from "./cloud-config";
import type { VmNames } from "./names";
import type { HostKeyPin } from "./ssh-key";

/** How commands reach the VM host. `sudo` prefixes them for a non-root user. */
export type HostModel =
  | { readonly type: "local"; readonly sudo: boolean; readonly netns?: string }
  | {
      readonly type: "ssh";
      readonly host: string;
      readonly port: number;
      readonly user: string;
      /** Private key text (PEM/OpenSSH). A secret: wrap it in pulumi.secret before it becomes an input. */
      readonly privateKey: string;
      readonly hostKey: HostKeyPin;
      readonly sudo: boolean;
      /** The private key's path as written (for ssh_config's jump to this host); none when given as text. */
      readonly privateKeyFile?: string;
    };

/** The host's LAN side, for the FORWARD rules between it and the cluster network. */
export interface LanModel {
  readonly interface: string;
  /** Canonical CIDR. */
  readonly subnet: string;
  /** The host's own address on the LAN: where the other hosts route its VMs' subnet. */
  readonly address?: string;
}

/** One VM host of the cluster with its LAN side and its part of the cluster network. */
export interface SiteModel {
  /** The `hosts` entry's name; none for a cluster on the single `host`. */
  readonly name?: string;
  readonly host: HostModel;
  readonly lan: LanModel;
  readonly network: NetworkModel;
}

export interface NetworkModel {
  /** libvirt network name. */
  readonly name: string;
  readonly bridge: string;
  /** Canonical CIDR, e.g. 172.17.2.0/24. */
  readonly cidr: string;
  readonly prefix: number;
  /** Dotted netmask for libvirt's `<ip netmask=...>`. */
  readonly netmask: string;
  /** The host's address on the bridge, the VMs' default route. */
  readonly gateway: string;
  readonly dhcpStart: string;
  readonly dhcpEnd: string;
  /** The VMs' DNS domain, answered by the network's own DNS only. */
  readonly domain: string;
}

export interface VmModel extends VmNames {
  /** Host name inside the guest, RFC 1123 label. */
  readonly name: string;
  /** The `hosts` entry it runs on (SiteModel.name); none on the single `host`. */
  readonly site?: string;
  readonly ip: string;
  /** Lowercase `52:54:00:xx:xx:xx` unless configured. */
  readonly mac: string;
  readonly memoryMiB: number;
  readonly vcpus: number;
  readonly diskBytes: number;
  /** `<name>.<network domain>`: what the network's DNS answers and the guest's `hostname -f`. */
  readonly fqdn: string;
  /** Ansible groups besides the cluster's own. */
  readonly groups: readonly string[];
  readonly dataDisks: readonly DataDiskModel[];
  /** Whether the domain runs; a stopped one keeps its definition and disks. */
  readonly running: boolean;
  /** The user's cloud-config for its first boot (the VM's over the defaults'), merged with ours. */
  readonly cloudConfig?: CloudConfig;
}

export interface DataDiskModel {
  /** The guest's /dev/disk/by-id/virtio-<name>. */
  readonly name: string;
  readonly sizeBytes: number;
  /** `<domain>_<name>.raw` in the cluster's pool. */
  readonly volume: string;
}

export type ImageChecksum = { readonly kind: "sha512"; readonly sha512: string } | { readonly kind: "checksumsUrl"; readonly checksumsUrl: string };

export interface ImageModel {
  /** http(s):// or file:// URL of a qcow2 cloud image. */
  readonly url: string;
  /** Last path segment of the URL: the name to look up in a SHA512SUMS file. */
  readonly fileName: string;
  readonly checksum: ImageChecksum;
}

export interface ClusterModel {
  readonly cluster: string;
  /** The VM hosts: one for `host`, the entries of `hosts` in order. */
  readonly sites: readonly SiteModel[];
  readonly pool: { readonly name: string; readonly dir: string };
  /** iptables comment on every rule of this cluster. */
  readonly firewallTag: string;
  readonly vms: readonly VmModel[];
  /** Ansible groups of groups, `[<group>:children]`, in config order. */
  readonly inventoryChildren: Readonly<Record<string, readonly string[]>>;
  /** `type base64 [comment]`, authorized for root in every guest. */
  readonly sshPublicKey: string;
  /** The private key matching sshPublicKey when it came from a `<key>.pub` file: `<key>`, as written. */
  readonly sshIdentityFile?: string;
  /** PEM bundle installed as a trusted CA in every guest. */
  readonly caCertificatePem?: string;
  readonly image: ImageModel;
  readonly domainType: "kvm" | "qemu";
  readonly readinessTimeoutSeconds: number;
  /** Generate a root password for the serial console (kept only as a secret output). */
  readonly consolePassword: boolean;
  /** Disable cloud-init in the guest once the first boot is done. */
  readonly disableCloudInitAfterBoot: boolean;
}
