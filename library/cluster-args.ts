// Generated from model/schema.ts by tools/cluster-args.ts; to change it, edit the schema and run:
// UPDATE_DOCS=1 npx vitest run test/unit/docs.test.ts

/**
 * A cluster as the stack config describes it: the keys of the `vm-cluster:` namespace, with the same
 * defaults and checks. `new Cluster(name, args)` validates them all at once and names every problem.
 */
export interface ClusterArgs {
  /**
   * The cluster's name: 1-20 lowercase letters and digits, a letter first, no `-`. The names on the VM host derive from it: network `<cluster>`, pool `<cluster>-pool`, domains `<cluster>-<vm>`. Example: `anemoi`.
   * On change: replaces the whole cluster.
   */
  readonly cluster: string;
  /**
   * The VM host and how to reach it: this machine or a remote one over SSH. Leave out for this machine; for several hosts use `hosts` instead.
   */
  readonly host?: {
    /**
     * `local`: the machine that runs Pulumi; `ssh`: a remote machine, reached over SSH.
     * On change: replaces the whole cluster.
     */
    readonly type: "local";
    /**
     * Run the host's commands through `sudo -n`, for a user other than root with password-less sudo.
     * Default: `false`.
     * On change: in place.
     */
    readonly sudo?: boolean;
    /**
     * An existing network namespace to run every host command in (`ip netns exec`), so the cluster's bridge, dnsmasq and firewall rules stay off the machine's own network. The demo and the tests use it.
     * On change: replaces the whole cluster.
     */
    readonly netns?: string;
  } | {
    /**
     * `local`: the machine that runs Pulumi; `ssh`: a remote machine, reached over SSH.
     * On change: replaces the whole cluster.
     */
    readonly type: "ssh";
    /**
     * Run the host's commands through `sudo -n`, for a user other than root with password-less sudo.
     * Default: `false`.
     * On change: in place.
     */
    readonly sudo?: boolean;
    /**
     * DNS name or IP address of the VM host. Example: `vmhost.example`.
     * On change: replaces the whole cluster.
     */
    readonly host: string;
    /**
     * SSH port of the VM host.
     * Default: `22`.
     * On change: replaces the whole cluster.
     */
    readonly port?: number;
    /**
     * User to log in as: `root`, or a user with password-less sudo and `sudo: true`.
     * On change: in place.
     */
    readonly user: string;
    /**
     * The SSH private key, without a passphrase: its path on the machine that runs Pulumi (`~/` is expanded; e.g. `~/.ssh/id_ed25519`), or the key text itself (recognised by its `-----BEGIN`), best set as a secret.
     * On change: in place.
     */
    readonly privateKey: string;
    /**
     * The host key the VM host must present, so no other machine can pose as it: its `SHA256:...` fingerprint as `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` prints it on the host, or a known_hosts line.
     * On change: in place.
     */
    readonly hostKey: string;
  };
  /**
   * Several VM hosts for one cluster, by name (instead of `host` and `lan`): each has its own checks, packages, pool, base image and part of the cluster network, and routes the other hosts' parts over the LAN without NAT. Each entry is a `host` object with `lan` (its `address` set) and optionally `network`. Example: `{ nuc1: { type: local, lan: {...} }, nuc2: { type: ssh, ..., lan: {...} } }`.
   * On change: adds or removes only those hosts and their VMs.
   */
  readonly hosts?: Readonly<Record<string, {
    /**
     * `local`: the machine that runs Pulumi; `ssh`: a remote machine, reached over SSH.
     * On change: replaces everything on this host.
     */
    readonly type: "local";
    /**
     * Run the host's commands through `sudo -n`, for a user other than root with password-less sudo.
     * Default: `false`.
     * On change: in place.
     */
    readonly sudo?: boolean;
    /**
     * An existing network namespace to run every host command in (`ip netns exec`), so the cluster's bridge, dnsmasq and firewall rules stay off the machine's own network. The demo and the tests use it.
     * On change: replaces everything on this host.
     */
    readonly netns?: string;
    /**
     * The LAN side of this host: the firewall rules forward traffic between it and the cluster network.
     */
    readonly lan: {
      /**
       * The LAN interface of this host (`ip -br link` lists them). Example: `eno1`.
       * On change: in place.
       */
      readonly interface: string;
      /**
       * The LAN's network; it must not overlap the cluster network. Example: `172.17.1.0/24`.
       * On change: in place.
       */
      readonly subnet: string;
      /**
       * The address of this host on the LAN, in `subnet`: the other hosts route its VMs' subnet through it, and the `route` output names it. Required with several hosts. Example: `172.17.1.10`.
       * On change: in place.
       */
      readonly address?: string;
    };
    /**
     * This host's part of the cluster network. Leave out for its share of `network.cidr` by its place in `hosts`: the first quarter for the first host, the second for the second, and so on (eighths from five hosts on, sixteenths from nine). Set it to keep a host's subnet when a host before it is removed, or when the number of hosts goes past four or back (or past eight).
     */
    readonly network?: {
      /**
       * This host's subnet, /30 or larger, inside `network.cidr` and apart from the other hosts'. Example: `172.17.2.128/25`.
       * On change: replaces this host's network, restarts its VMs.
       */
      readonly cidr: string;
      /**
       * The VM host's address on this host's bridge: the VMs' gateway. Leave out for the first address of `hosts.<name>.network.cidr`. Example: `172.17.2.1`.
       * On change: replaces this host's network, restarts its VMs.
       */
      readonly gateway?: string;
      /**
       * First address of the DHCP range, in `hosts.<name>.network.cidr`; the range must not include the gateway and may include the VMs' reserved addresses. Leave out for the address after the gateway. Example: `172.17.2.2`.
       * On change: replaces this host's network.
       */
      readonly dhcpStart?: string;
      /**
       * Last address of the DHCP range, not before `dhcpStart`. Leave out for the last address before the broadcast address. Example: `172.17.2.254`.
       * On change: replaces this host's network.
       */
      readonly dhcpEnd?: string;
    };
  } | {
    /**
     * `local`: the machine that runs Pulumi; `ssh`: a remote machine, reached over SSH.
     * On change: replaces everything on this host.
     */
    readonly type: "ssh";
    /**
     * Run the host's commands through `sudo -n`, for a user other than root with password-less sudo.
     * Default: `false`.
     * On change: in place.
     */
    readonly sudo?: boolean;
    /**
     * The LAN side of this host: the firewall rules forward traffic between it and the cluster network.
     */
    readonly lan: {
      /**
       * The LAN interface of this host (`ip -br link` lists them). Example: `eno1`.
       * On change: in place.
       */
      readonly interface: string;
      /**
       * The LAN's network; it must not overlap the cluster network. Example: `172.17.1.0/24`.
       * On change: in place.
       */
      readonly subnet: string;
      /**
       * The address of this host on the LAN, in `subnet`: the other hosts route its VMs' subnet through it, and the `route` output names it. Required with several hosts. Example: `172.17.1.10`.
       * On change: in place.
       */
      readonly address?: string;
    };
    /**
     * This host's part of the cluster network. Leave out for its share of `network.cidr` by its place in `hosts`: the first quarter for the first host, the second for the second, and so on (eighths from five hosts on, sixteenths from nine). Set it to keep a host's subnet when a host before it is removed, or when the number of hosts goes past four or back (or past eight).
     */
    readonly network?: {
      /**
       * This host's subnet, /30 or larger, inside `network.cidr` and apart from the other hosts'. Example: `172.17.2.128/25`.
       * On change: replaces this host's network, restarts its VMs.
       */
      readonly cidr: string;
      /**
       * The VM host's address on this host's bridge: the VMs' gateway. Leave out for the first address of `hosts.<name>.network.cidr`. Example: `172.17.2.1`.
       * On change: replaces this host's network, restarts its VMs.
       */
      readonly gateway?: string;
      /**
       * First address of the DHCP range, in `hosts.<name>.network.cidr`; the range must not include the gateway and may include the VMs' reserved addresses. Leave out for the address after the gateway. Example: `172.17.2.2`.
       * On change: replaces this host's network.
       */
      readonly dhcpStart?: string;
      /**
       * Last address of the DHCP range, not before `dhcpStart`. Leave out for the last address before the broadcast address. Example: `172.17.2.254`.
       * On change: replaces this host's network.
       */
      readonly dhcpEnd?: string;
    };
    /**
     * DNS name or IP address of the VM host. Example: `vmhost.example`.
     * On change: replaces everything on this host.
     */
    readonly host: string;
    /**
     * SSH port of the VM host.
     * Default: `22`.
     * On change: replaces everything on this host.
     */
    readonly port?: number;
    /**
     * User to log in as: `root`, or a user with password-less sudo and `sudo: true`.
     * On change: in place.
     */
    readonly user: string;
    /**
     * The SSH private key, without a passphrase: its path on the machine that runs Pulumi (`~/` is expanded; e.g. `~/.ssh/id_ed25519`), or the key text itself (recognised by its `-----BEGIN`), best set as a secret.
     * On change: in place.
     */
    readonly privateKey: string;
    /**
     * The host key the VM host must present, so no other machine can pose as it: its `SHA256:...` fingerprint as `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` prints it on the host, or a known_hosts line.
     * On change: in place.
     */
    readonly hostKey: string;
  }>>;
  /**
   * The VM host's LAN side: the firewall rules forward traffic between it and the cluster network. Required, except with `hosts`, where each has its own.
   */
  readonly lan?: {
    /**
     * The LAN interface of the VM host (`ip -br link` lists them). Example: `eno1`.
     * On change: in place.
     */
    readonly interface: string;
    /**
     * The LAN's network; it must not overlap the cluster network. Example: `172.17.1.0/24`.
     * On change: in place.
     */
    readonly subnet: string;
    /**
     * The address of the VM host on the LAN, in `subnet`: the other hosts route its VMs' subnet through it, and the `route` output names it. Required with several hosts. Example: `172.17.1.10`.
     * On change: nothing on the host.
     */
    readonly address?: string;
  };
  /**
   * The cluster's own NAT network, a libvirt network named after the cluster.
   */
  readonly network: {
    /**
     * The cluster's subnet, /30 or larger, apart from the LAN; with `hosts`, the range their parts come from. Example: `172.17.2.0/24`.
     * On change: replaces the cluster network, restarts every VM.
     */
    readonly cidr: string;
    /**
     * The VM host's address on the cluster's bridge: the VMs' gateway. Leave out for the first address of `network.cidr` (with `hosts`, set it per host). Example: `172.17.2.1`.
     * On change: replaces the cluster network, restarts every VM.
     */
    readonly gateway?: string;
    /**
     * First address of the DHCP range, in `network.cidr`; the range must not include the gateway and may include the VMs' reserved addresses. Leave out for the address after the gateway. Example: `172.17.2.2`.
     * On change: replaces the cluster network.
     */
    readonly dhcpStart?: string;
    /**
     * Last address of the DHCP range, not before `dhcpStart`. Leave out for the last address before the broadcast address. Example: `172.17.2.254`.
     * On change: replaces the cluster network.
     */
    readonly dhcpEnd?: string;
    /**
     * The Linux bridge libvirt creates for the network, at most 15 characters, not `lan.interface`. Leave out for `vmc-<cluster>` (shortened with a hash when longer than 15). Example: `kvmbr0`.
     * On change: replaces the cluster network.
     */
    readonly bridge?: string;
    /**
     * The VMs' DNS domain: the network's DNS answers `<vm>` and `<vm>.<domain>` for every VM, and that is each VM's `hostname -f`; names in it never leave the host. Leave out for `<cluster>.internal`. Example: `lab.internal`.
     * On change: replaces the cluster network.
     */
    readonly domain?: string;
  };
  /**
   * The VMs, at least one: each boots the base image with its own host name, address and root's SSH key.
   * On change: adds or removes only those VMs.
   */
  readonly vms: readonly {
    /**
     * The VM's host name, an RFC 1123 label (lowercase letters, digits, `-`); its libvirt domain is `<cluster>-<name>`. Example: `boreas`.
     * On change: replaces this VM.
     */
    readonly name: string;
    /**
     * The VM's address in `network.cidr`, handed out by a DHCP reservation; one per VM, not the gateway. Example: `172.17.2.2`.
     * On change: restarts this VM.
     */
    readonly ip: string;
    /**
     * The entry of `hosts` this VM runs on; may be left out when there is one. Not with `host`. Example: `nuc2`.
     * On change: replaces this VM.
     */
    readonly host?: string;
    /**
     * The VM's MAC address, locally administered unicast. Leave out for a stable `52:54:00:xx:xx:xx` derived from the cluster and VM names.
     * On change: replaces this VM.
     */
    readonly mac?: string;
    /**
     * This VM's memory in MiB, instead of its class's or `defaults.memoryMiB`.
     * On change: restarts this VM.
     */
    readonly memoryMiB?: number;
    /**
     * This VM's virtual CPUs, instead of its class's or `defaults.vcpus`.
     * On change: restarts this VM.
     */
    readonly vcpus?: number;
    /**
     * This VM's disk size, instead of its class's or `defaults.disk`. Example: `50G`.
     * On change: in place.
     */
    readonly disk?: string | number;
    /**
     * A size class from `classes`: its sizes apply where the VM sets none of its own (VM, then class, then `defaults`). Example: `worker`.
     * On change: restarts this VM.
     */
    readonly class?: string;
    /**
     * Raw, unformatted, sparse disks beside the VM's own, in the cluster's pool, for Ceph, Rook or Longhorn: plugged into the running VM when added and out when removed, with no restart; removed with the VM.
     * Default: none.
     * On change: adds or removes only those data disks, hot-plugged.
     */
    readonly dataDisks?: readonly {
      /**
       * The disk's name: the guest sees it as `/dev/disk/by-id/virtio-<name>`; 1-20 lowercase letters, digits and `-`. Example: `ceph`.
       * On change: replaces that data disk (a new, empty one), hot-plugged.
       */
      readonly name: string;
      /**
       * The disk's size, grown in place under the running guest (never shrunk). Example: `10G`.
       * On change: in place.
       */
      readonly size: string | number;
    }[];
    /**
     * `false` keeps the VM defined, with its disks, but shut down (gracefully), so a lab fits a small host; `true` starts it again. A VM started or stopped by hand is drift: `pulumi up` puts it back.
     * Default: `true`.
     * On change: stops or starts this VM.
     */
    readonly running?: boolean;
    /**
     * Your own cloud-config for this VM's first boot, merged with vm-cluster's and with `defaults.cloudConfig` (its commands, packages and users after those; a file path or user name in both is this VM's). Set exactly one of `file` and `inline`. Its keys: `write_files`, `runcmd`, `bootcmd`, `packages`, `users`; what vm-cluster sets itself (host name, root's keys and password, host keys, the CA, /etc/hosts) is refused, named. Its `runcmd` runs after vm-cluster's, under `set -e` (a failing command fails `pulumi up`), before `pulumi up` returns. cloud-init reads it at a first boot only: a change reaches a new VM, or one reset to a fresh first boot (see Changing a running cluster).
     * On change: next first boot only (running VMs keep theirs).
     */
    readonly cloudConfig?: {
      /**
       * Path of a cloud-config YAML file on the machine that runs Pulumi (`~/` is expanded). Example: `lab/worker.yaml`.
       * On change: next first boot only (running VMs keep theirs).
       */
      readonly file?: string;
      /**
       * The cloud-config itself: a mapping in the stack file, or its YAML text. Example: `{ runcmd: ["modprobe br_netfilter"] }`.
       * On change: next first boot only (running VMs keep theirs).
       */
      readonly inline?: string | Readonly<Record<string, unknown>>;
    };
    /**
     * Ansible groups the VM is in, besides the `<cluster>` group of all VMs: the `inventory` output has a section for each. Example: `[kube_control_plane, etcd]`.
     * Default: none.
     * On change: nothing on the host.
     */
    readonly groups?: readonly string[];
  }[];
  /**
   * Sizes of the VMs that set none of their own and whose class sets none, and the cloud-config every VM gets.
   */
  readonly defaults?: {
    /**
     * Each VM's disk size: K, M, G, T are 1024-based as qemu-img reads them (`35G` is 35 GiB; `GB` is refused), or a byte count; whole 512-byte sectors. The disk is a copy-on-write overlay of the base image.
     * Default: `35G`.
     * On change: in place.
     */
    readonly disk?: string | number;
    /**
     * Each VM's memory in MiB.
     * Default: `2048`.
     * On change: restarts every VM.
     */
    readonly memoryMiB?: number;
    /**
     * Each VM's number of virtual CPUs.
     * Default: `1`.
     * On change: restarts every VM.
     */
    readonly vcpus?: number;
    /**
     * Your own cloud-config for every VM's first boot, merged with vm-cluster's (and each VM's `cloudConfig`). Set exactly one of `file` and `inline`. Its keys: `write_files`, `runcmd`, `bootcmd`, `packages`, `users`; what vm-cluster sets itself (host name, root's keys and password, host keys, the CA, /etc/hosts) is refused, named. Its `runcmd` runs after vm-cluster's, under `set -e` (a failing command fails `pulumi up`), before `pulumi up` returns. cloud-init reads it at a first boot only: a change reaches a new VM, or one reset to a fresh first boot (see Changing a running cluster).
     * On change: next first boot only (running VMs keep theirs).
     */
    readonly cloudConfig?: {
      /**
       * Path of a cloud-config YAML file on the machine that runs Pulumi (`~/` is expanded). Example: `lab/worker.yaml`.
       * On change: next first boot only (running VMs keep theirs).
       */
      readonly file?: string;
      /**
       * The cloud-config itself: a mapping in the stack file, or its YAML text. Example: `{ runcmd: ["modprobe br_netfilter"] }`.
       * On change: next first boot only (running VMs keep theirs).
       */
      readonly inline?: string | Readonly<Record<string, unknown>>;
    };
  };
  /**
   * Size classes by name, such as `control` and `worker`: a VM with `class` takes the sizes its class sets. Example: `{ worker: { memoryMiB: 4096, vcpus: 2 } }`.
   * Default: none.
   * On change: nothing on the host.
   */
  readonly classes?: Readonly<Record<string, {
    /**
     * Memory in MiB of the class's VMs.
     * On change: restarts the VMs of this class.
     */
    readonly memoryMiB?: number;
    /**
     * Virtual CPUs of the class's VMs.
     * On change: restarts the VMs of this class.
     */
    readonly vcpus?: number;
    /**
     * Disk size of the class's VMs. Example: `50G`.
     * On change: in place.
     */
    readonly disk?: string | number;
  }>>;
  /**
   * The Ansible inventory outputs beyond the VMs' own groups.
   */
  readonly inventory?: {
    /**
     * Ansible groups made of other groups (`[<group>:children]`), by name: each lists VM groups (`vms[].groups`) or other such groups, as kubespray's `k8s_cluster: [kube_control_plane, kube_node]`.
     * Default: none.
     * On change: nothing on the host.
     */
    readonly children?: Readonly<Record<string, readonly string[]>>;
  };
  /**
   * The SSH public key authorized for root in every VM: set exactly one of `file` and `key`.
   */
  readonly sshPublicKey: {
    /**
     * Path of the public key file on the machine that runs Pulumi (`~/` is expanded). When it ends in `.pub`, the `sshConfig`, `inventory` and each VM's `ssh` output name the private key beside it (the same path without `.pub`, made absolute when relative; not for a path with quotes, backslashes, `%` or `$`). Example: `~/.ssh/id_ed25519.pub`.
     * On change: in place.
     */
    readonly file?: string;
    /**
     * The public key line itself. Example: `ssh-ed25519 AAAAC3Nza... me@laptop`.
     * On change: in place.
     */
    readonly key?: string;
  };
  /**
   * A CA certificate (or bundle) every VM trusts, e.g. your domain's CA: set exactly one of `file` and `pem`. Leave out for none.
   * On change: in place.
   */
  readonly caCertificate?: {
    /**
     * Path of a PEM file on the machine that runs Pulumi (`~/` is expanded). Example: `~/ca.crt`.
     * On change: in place.
     */
    readonly file?: string;
    /**
     * The PEM text itself: one or more `-----BEGIN CERTIFICATE-----` blocks.
     * On change: in place.
     */
    readonly pem?: string;
  };
  /**
   * The base image of every VM, downloaded and checked on the VM host: set `url` and exactly one of `sha512` and `checksumsUrl`. The default is Debian 12 genericcloud amd64.
   */
  readonly image?: {
    /**
     * URL of a qcow2 cloud image with cloud-init: `https://`, `http://`, or `file://` for a file on the VM host.
     * Default: `https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2`.
     * On change: replaces every VM.
     */
    readonly url: string;
    /**
     * The image's SHA-512 digest, 128 hex digits.
     * On change: replaces every VM.
     */
    readonly sha512?: string;
    /**
     * URL of a `SHA512SUMS` file that lists the image under the last segment of `url`.
     * Default: `https://cloud.debian.org/images/cloud/bookworm/latest/SHA512SUMS`.
     * On change: replaces every VM.
     */
    readonly checksumsUrl?: string;
  };
  /**
   * Directory of the cluster's storage pool on the VM host: a new one (`pulumi up` makes it, destroy removes it) or an existing empty one (its owner and mode stay, destroy leaves it). Never a system directory, a home directory itself or a hidden folder. Leave out for `/var/lib/libvirt/images/<cluster>`.
   * On change: replaces every VM.
   */
  readonly poolDir?: string;
  /**
   * `kvm`: hardware virtualization (needs VT-x/AMD-V and `/dev/kvm`); `qemu`: software emulation, much slower, for hosts without KVM.
   * Default: `kvm`.
   * On change: recreates every VM's domain (disks kept).
   */
  readonly domainType?: "kvm" | "qemu";
  /**
   * How long `pulumi up` waits for each VM's DHCP lease, SSH and the end of cloud-init, in seconds.
   * Default: `600`.
   * On change: nothing on the host.
   */
  readonly readinessTimeoutSeconds?: number;
  /**
   * Give root a generated password for the serial console (each VM's `console` command in the `vms` output), one for the whole cluster: `pulumi stack output consolePassword --show-secrets`. SSH password login stays off.
   * Default: `false`.
   * On change: in place.
   */
  readonly consolePassword?: boolean;
  /**
   * Switch cloud-init off in each VM at the end of its first boot (`/etc/cloud/cloud-init.disabled`), so later boots skip it.
   * Default: `false`.
   * On change: in place.
   */
  readonly disableCloudInitAfterBoot?: boolean;
}
