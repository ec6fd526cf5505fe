// The whole cluster, in the seed's order: on each VM host its checks and preparation, then the
// storage pool and the NAT network, the base image (HostSite), one VirtualMachine per VM, and each
// host's firewall rules last.
// Each step depends on the one before by data or dependsOn, so destroy runs it backwards.
import * as path from "node:path";
import * as pulumi from "../provider/pulumi";
import { ConsolePassword } from "../secrets/console-password";
import { SshKeyPair } from "../secrets/ssh-key-pair";
import type { Owner } from "../libvirt/xml";
import type { ClusterModel, VmModel } from "../model";
import { ansibleInventory, ansibleInventoryYaml, knownHosts, sshConfig, staticRouteCommand } from "../outputs";
import { KnownHostsFile } from "../outputs/known-hosts-file";
import { withholdSecretsFromDebugLog } from "./debug-log";
import { HostSite } from "./host-site";
import { VirtualMachine, type VirtualMachineInfo } from "./virtual-machine";

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
  /** The routes LAN clients need to reach the cluster subnets through their VM hosts, one per line. */
  route: string;
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
    // One site per VM host; a single `host` keeps the resource names it always had.
    const sites = new Map(
      model.sites.map((site, i) => {
        const prefix = site.name === undefined ? name : `${name}-${site.name}`;
        return [site.name, new HostSite(this, prefix, { model, site, owner, ...(i === 0 && site.name !== undefined && { formerly: name }) })];
      }),
    );
    const siteOf = (vm: VmModel) => sites.get(vm.site)!;
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
            network: siteOf(vm).site.network,
            sshPublicKey: model.sshPublicKey,
            sshIdentityFile: model.sshIdentityFile,
            caCertificate: model.caCertificatePem === undefined ? undefined : { name: model.cluster, pem: model.caCertificatePem },
            readinessTimeoutSeconds: model.readinessTimeoutSeconds,
            disableCloudInitAfterBoot: model.disableCloudInitAfterBoot,
            ...siteOf(vm).vmInputs,
            owner,
            provisionerKey,
            consolePasswordHash: consolePassword?.hash,
            consoleLogDir: args.consoleLogDir ?? "/var/log/libvirt/qemu",
          },
          parent,
        ),
    );

    // Last, as in the seed: each host's rules open its part of the cluster once its VMs are up.
    for (const site of sites.values()) site.openFirewall(vms.filter((_, i) => model.vms[i]!.site === site.site.name).map((vm) => vm.ready));

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
        route: model.sites.map((site) => staticRouteCommand(site)).join("\n"),
      };
    });
    // Secret by its own flag too, not only by additionalSecretOutputs, which the engine applies and mocks do not.
    this.consolePassword = consolePassword && pulumi.secret(consolePassword.password);
    this.registerOutputs({ outputs: this.outputs, consolePassword: this.consolePassword });
  }
}
