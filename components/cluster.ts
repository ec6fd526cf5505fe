// The whole cluster, in the seed's order: VM host checks and preparation, then the storage pool
// and the NAT network, the base image, one VirtualMachine per VM, and the firewall rules last.
// Each step depends on the one before by data or dependsOn, so destroy runs it backwards.
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ConsolePassword } from "../secrets/console-password";
import { SshKeyPair } from "../secrets/ssh-key-pair";
import { FirewallRules } from "../host";
import { BaseImage } from "../libvirt/base-image";
import type { ConnectionSpec } from "../transport/connection";
import { NatNetwork } from "../libvirt/network";
import { StoragePool } from "../libvirt/pool";
import type { LibvirtTarget } from "../libvirt/virsh";
import type { Owner } from "../libvirt/xml";
import type { ClusterModel } from "../model";
import { ansibleInventory, ansibleInventoryYaml, knownHosts, sshConfig, staticRouteCommand } from "../outputs";
import { KnownHostsFile } from "../outputs/known-hosts-file";
import { withholdSecretsFromDebugLog } from "./debug-log";
import { VirtualMachine, type VirtualMachineInfo } from "./virtual-machine";
import { VmHost } from "./vm-host";

/** The component's own args: a checked model (library/ takes the config's keys as ClusterArgs and checks them). */
export interface ClusterModelArgs {
  model: ClusterModel;
  /** Pulumi project and stack: recorded on every libvirt object we make, to prove it is ours. */
  project: string;
  stack: string;
  /** Where libvirt writes serial console logs on the host. */
  consoleLogDir?: string;
  /** Where the stack keeps its known_hosts file on the machine that runs Pulumi; default `.vm-cluster/<stack>` in the project folder. */
  handoffDir?: string;
}

/** The stack's outputs: everything a user needs to reach the cluster. */
export interface ClusterOutputs {
  vms: Record<string, VirtualMachineInfo>;
  /** Ansible INI inventory, for `ansible-playbook -i`. */
  inventory: string;
  /** The same inventory in Ansible's YAML format. */
  inventoryYaml: string;
  /** OpenSSH client config; names the stack's known_hosts file by its absolute path. */
  sshConfig: string;
  knownHosts: string;
  /** The route LAN clients need to reach the cluster subnet through the VM host. */
  route: string;
}

/** The host connection as provider input; the SSH private key travels as a secret. */
export function connectionSpec(model: ClusterModel): pulumi.Output<ConnectionSpec> {
  const host = model.host;
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

export class Cluster extends pulumi.ComponentResource {
  readonly outputs: pulumi.Output<ClusterOutputs>;
  /**
   * root's serial console password, as a secret; only with `consolePassword: true`. Kept out of
   * `outputs`, whose other values would all turn secret with it.
   */
  readonly consolePassword?: pulumi.Output<string>;

  constructor(name: string, args: ClusterModelArgs, opts?: pulumi.ComponentResourceOptions) {
    // Before any resource registers: the SDK's debug log would carry secret outputs in clear text.
    withholdSecretsFromDebugLog();
    super("vm-cluster:index:Cluster", name, {}, opts);
    const { model } = args;
    const parent = { parent: this };
    const owner: Owner = { project: args.project, stack: args.stack, cluster: model.cluster };
    const connection = connectionSpec(model);
    const target: pulumi.Output<LibvirtTarget> = connection.apply((c) => ({ connection: c }));

    const host = new VmHost(`${name}-host`, { connection, domainType: model.domainType }, parent);
    const afterHost = { parent: this, dependsOn: host.ready };

    const pool = new StoragePool(`${name}-pool`, { target, name: model.pool.name, path: model.pool.dir, owner }, afterHost);
    const network = new NatNetwork(
      `${name}-network`,
      {
        target,
        name: model.network.name,
        bridge: model.network.bridge,
        address: model.network.gateway,
        netmask: model.network.netmask,
        dhcpStart: model.network.dhcpStart,
        dhcpEnd: model.network.dhcpEnd,
        hosts: model.vms.map((vm) => ({ mac: vm.mac, name: vm.name, ip: vm.ip })),
        domain: model.network.domain,
        // The FQDN first: dnsmasq answers reverse lookups with a host's first name.
        dnsHosts: model.vms.map((vm) => ({ ip: vm.ip, hostnames: [vm.fqdn, vm.name] })),
        owner,
      },
      afterHost,
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
      parent,
    );
    const provisionerKey = new SshKeyPair(`${name}-provisioner-key`, { comment: `vm-cluster@${model.cluster}` }, parent);
    // One password for the whole cluster: the console is a last resort, and one secret is easier to keep.
    const consolePassword = model.consolePassword ? new ConsolePassword(`${name}-console-password`, {}, parent) : undefined;

    const vms = model.vms.map(
      (vm) =>
        new VirtualMachine(
          `${name}-${vm.name}`,
          {
            vm,
            domainType: model.domainType,
            network: model.network,
            sshPublicKey: model.sshPublicKey,
            sshIdentityFile: model.sshIdentityFile,
            caCertificate: model.caCertificatePem === undefined ? undefined : { name: model.cluster, pem: model.caCertificatePem },
            readinessTimeoutSeconds: model.readinessTimeoutSeconds,
            disableCloudInitAfterBoot: model.disableCloudInitAfterBoot,
            target,
            owner,
            pool: pool.name,
            poolOwner: pool.owner,
            poolPath: pool.path,
            networkName: network.name,
            basePath: base.path,
            baseVirtualSize: base.virtualSize,
            provisionerKey,
            consolePasswordHash: consolePassword?.hash,
            consoleLogDir: args.consoleLogDir ?? "/var/log/libvirt/qemu",
          },
          parent,
        ),
    );

    // Last, as in the seed: the rules open the cluster to the LAN once its VMs are up.
    new FirewallRules(
      `${name}-firewall`,
      {
        connection,
        cluster: model.cluster,
        lanInterface: model.lan.interface,
        bridge: network.bridge,
        clusterCidr: model.network.cidr,
        lanCidr: model.lan.subnet,
      },
      { parent: this, dependsOn: vms.map((vm) => vm.ready) },
    );

    const infos = pulumi.all(vms.map((vm) => vm.info));
    const knownHostsText = infos.apply((all) => knownHosts(model, Object.fromEntries(all.map((info) => [info.name, [info.hostPublicKey]]))));
    // By default relative to the project folder (the provider runs there), so every checkout of a
    // stack with team state has the same input and its own file; the outputs name it by its absolute
    // path, so ssh -F and ansible -i work from any folder.
    const knownHostsFile = new KnownHostsFile(
      `${name}-known-hosts`,
      { path: path.join(args.handoffDir ?? path.join(".vm-cluster", args.stack), `${model.cluster}.known_hosts`), content: knownHostsText },
      parent,
    );
    const knownHostsPath = knownHostsFile.path.apply((p) => path.resolve(p));
    this.outputs = pulumi.all([infos, knownHostsPath, knownHostsText]).apply(([all, knownHostsPath, text]) => {
      const handoff = { knownHostsPath, identityFile: model.sshIdentityFile };
      return {
        vms: Object.fromEntries(all.map((info) => [info.name, info])),
        inventory: ansibleInventory(model, handoff),
        inventoryYaml: ansibleInventoryYaml(model, handoff),
        sshConfig: sshConfig(model, handoff),
        knownHosts: text,
        route: staticRouteCommand(model),
      };
    });
    // Secret by its own flag too, not only by additionalSecretOutputs, which the engine applies and mocks do not.
    this.consolePassword = consolePassword && pulumi.secret(consolePassword.password);
    this.registerOutputs({ outputs: this.outputs, consolePassword: this.consolePassword });
  }
}
