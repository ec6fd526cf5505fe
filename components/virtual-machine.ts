// One VM: its host key, a copy-on-write disk over the base image, a cloud-init seed, the domain,
// and the readiness wait. The domain depends on disk, seed and network; readiness on the domain.
import { createHash } from "node:crypto";
import * as path from "node:path";
import * as pulumi from "../provider/pulumi";
import { caCertificateFiles, metaData, networkConfig, userData, type CaCertificate } from "../cloudinit";
import { SshKeyPair } from "../secrets/ssh-key-pair";
import { GuestSettings } from "../guest/guest-settings";
import { Readiness } from "../guest/readiness";
import { Disk } from "../libvirt/disk";
import { Domain } from "../libvirt/domain";
import { Seed } from "../libvirt/seed";
import type { LibvirtTarget } from "../libvirt/virsh";
import type { Owner } from "../libvirt/xml";
import type { ClusterModel, NetworkModel, VmModel } from "../model";
import { consoleCommand, sshCommand } from "../outputs";

/** A VM's slice of the cluster: its own model and what all the cluster's VMs share. */
export interface VirtualMachineArgs {
  vm: VmModel;
  domainType: ClusterModel["domainType"];
  /** The cluster network's prefix length and gateway, for the lease the domain records. */
  network: Pick<NetworkModel, "prefix" | "gateway">;
  /** The user's public key line, authorized for root. */
  sshPublicKey: string;
  /** Its private key's path, for the VM's `ssh` command. */
  sshIdentityFile?: string;
  /** A CA bundle the guest trusts. */
  caCertificate?: CaCertificate;
  readinessTimeoutSeconds: number;
  disableCloudInitAfterBoot: boolean;
  target: pulumi.Input<LibvirtTarget>;
  /** Written on the domain as its owner marker. */
  owner: Owner;
  pool: pulumi.Input<string>;
  /** The owner the pool's UUID was made from (its state): it proves the volumes in the pool ours. */
  poolOwner: pulumi.Input<Owner | undefined>;
  /** The pool's directory: a volume's path there is known before the volume changes (preview). */
  poolPath: pulumi.Input<string>;
  /** The libvirt network's name. */
  networkName: pulumi.Input<string>;
  basePath: pulumi.Input<string>;
  /** The base image's virtual size: a smaller disk is refused before it is made. */
  baseVirtualSize?: pulumi.Input<number | undefined>;
  /** The stack's provisioner key pair, authorized for root so readiness can log in. */
  provisionerKey: SshKeyPair;
  /** crypt(3) hash of the stack's console password for root; without it root's password stays locked. */
  consolePasswordHash?: pulumi.Input<string>;
  /** Where libvirt writes serial console logs on the host. */
  consoleLogDir: string;
}

/** What a user needs to reach the VM. */
export interface VirtualMachineInfo {
  name: string;
  /** `<name>.<network domain>`, answered by the cluster network's DNS. */
  fqdn: string;
  ip: string;
  mac: string;
  domain: string;
  hostPublicKey: string;
  ssh: string;
  console: string;
}

export class VirtualMachine extends pulumi.ComponentResource {
  readonly info: pulumi.Output<VirtualMachineInfo>;
  readonly ready: Readiness;
  readonly domain: Domain;

  constructor(name: string, args: VirtualMachineArgs, opts?: pulumi.ComponentResourceOptions) {
    super("vm-cluster:index:VirtualMachine", name, {}, opts);
    const { vm, caCertificate } = args;
    const parent = { parent: this };

    const hostKey = new SshKeyPair(`${name}-host-key`, { comment: `root@${vm.name}` }, parent);
    const disk = new Disk(
      `${name}-disk`,
      {
        target: args.target,
        pool: args.pool,
        name: vm.diskVolume,
        capacityBytes: vm.diskBytes,
        backingPath: args.basePath,
        minimumBytes: args.baseVirtualSize,
        owner: args.poolOwner,
        domain: vm.domain,
        guestMac: vm.mac,
      },
      parent,
    );
    const rootAuthorizedKeys = args.provisionerKey.publicKey.apply((provisionerPublicKey) => [args.sshPublicKey, provisionerPublicKey]);
    const userDataDoc = pulumi
      .all([hostKey.publicKey, hostKey.privateKey, rootAuthorizedKeys, args.consolePasswordHash])
      .apply(([publicKey, privateKey, keys, consolePasswordHash]) =>
        userData({
          hostname: vm.name,
          fqdn: vm.fqdn,
          rootAuthorizedKeys: keys,
          hostKeys: { ed25519: { publicKey, privateKey } },
          caCertificate,
          consolePasswordHash,
          disableCloudInitAfterBoot: args.disableCloudInitAfterBoot,
          cloudConfig: vm.cloudConfig,
        }),
      );
    const seed = new Seed(
      `${name}-seed`,
      {
        target: args.target,
        pool: args.pool,
        name: vm.seedVolume,
        owner: args.poolOwner,
        userData: pulumi.secret(userDataDoc),
        metaData: metaData({ instanceId: vm.domain, hostname: vm.name }),
        networkConfig: networkConfig({ macAddress: vm.mac }),
        cloudConfigDigest: vm.cloudConfig === undefined ? "" : createHash("sha256").update(JSON.stringify(vm.cloudConfig)).digest("hex"),
      },
      parent,
    );
    // In preview too: the seed's check compares the user's cloud-config with the one the VM was made with.
    pulumi.all([seed.cloudConfigChanged, disk.urn]).apply(([changed, diskUrn]) => {
      if (!changed) return;
      void pulumi.log.warn(
        `the cloud-config of ${vm.name} changed: cloud-init reads it at a first boot only, so the running VM keeps what its first boot did, and the new one waits in its seed for a new first boot. To give ${vm.name} one now (a new disk: what its disk holds is lost), run: pulumi up --replace '${diskUrn}'`,
        seed,
      );
    });
    // Raw and sparse, no base: what the guest writes there is all they hold.
    const dataDisks = vm.dataDisks.map(
      (data) =>
        new Disk(
          `${name}-data_${data.name}`,
          {
            target: args.target,
            pool: args.pool,
            name: data.volume,
            capacityBytes: data.sizeBytes,
            sizeKey: `the size of data disk ${data.name} (vms[].dataDisks[].size of ${vm.name})`,
            owner: args.poolOwner,
            domain: vm.domain,
          },
          parent,
        ),
    );
    const consoleLog = `${args.consoleLogDir}/${vm.domain}-console.log`;
    // The volumes' paths as libvirt makes them in a dir pool, so a disk growing or a seed made anew
    // leaves them known in preview; the domain follows its disk by the disk's id.
    const inPool = (volume: string) => pulumi.output(args.poolPath).apply((dir) => path.posix.join(dir, volume));
    this.domain = new Domain(
      `${name}-domain`,
      {
        target: args.target,
        name: vm.domain,
        type: args.domainType,
        memoryMiB: vm.memoryMiB,
        vcpus: vm.vcpus,
        disk: disk.id,
        diskPath: inPool(vm.diskVolume),
        seedPath: inPool(vm.seedVolume),
        network: args.networkName,
        mac: vm.mac,
        lease: `${vm.ip}/${args.network.prefix} via ${args.network.gateway}`,
        consoleLog,
        owner: args.owner,
        shutdownTimeoutSeconds: 10,
        running: vm.running,
        dataDisks: pulumi.all(vm.dataDisks.map((data) => inPool(data.volume).apply((path) => ({ serial: data.name, path })))),
      },
      { parent: this, dependsOn: [seed, ...dataDisks] },
    );
    this.ready = new Readiness(
      `${name}-ready`,
      {
        target: args.target,
        vm: vm.name,
        domain: this.domain.name,
        domainStartedAt: this.domain.startedAt,
        domainId: this.domain.id,
        domainRestart: this.domain.restart,
        running: vm.running,
        network: args.networkName,
        mac: vm.mac,
        ip: vm.ip,
        consoleLog,
        hostPublicKey: hostKey.publicKey,
        provisionerPrivateKey: args.provisionerKey.privateKey,
        timeoutSeconds: args.readinessTimeoutSeconds,
      },
      parent,
    );
    // First boot set these from the seed; later changes reach the running guest through this.
    const settings = new GuestSettings(
      `${name}-settings`,
      {
        target: args.target,
        vm: vm.name,
        ready: this.ready.id,
        network: args.networkName,
        ip: vm.ip,
        hostPublicKey: hostKey.publicKey,
        provisionerPrivateKey: args.provisionerKey.privateKey,
        fqdn: vm.fqdn,
        dataDisks: vm.dataDisks.map((data) => data.name),
        rootAuthorizedKeys,
        caFiles: (caCertificate === undefined ? [] : caCertificateFiles(caCertificate)).map(({ path, content }) => ({ path, content })),
        consolePasswordHash: pulumi.secret(pulumi.output(args.consolePasswordHash).apply((hash) => hash ?? "")),
        disableCloudInitAfterBoot: args.disableCloudInitAfterBoot,
        // Known at preview (the disk's own output is not while it changes); readiness comes after the disk.
        diskBytes: vm.diskBytes,
        diskCreatedAt: disk.createdAt,
        running: vm.running,
      },
      parent,
    );
    this.info = pulumi.all([hostKey.publicKey, settings.id]).apply(([hostPublicKey]) => ({
      name: vm.name,
      fqdn: vm.fqdn,
      ip: vm.ip,
      mac: vm.mac,
      domain: vm.domain,
      hostPublicKey,
      ssh: sshCommand(vm, { identityFile: args.sshIdentityFile }),
      console: consoleCommand(vm),
    }));
    this.registerOutputs({ info: this.info });
  }
}
