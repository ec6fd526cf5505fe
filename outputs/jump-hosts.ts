// Which VMs the machine that runs Pulumi reaches only through their VM host. With several hosts
// and one of them this machine, every host routes the others' subnets (PeerRoutes), this one too:
// all VMs are reached directly. Without such a host, a VM on an SSH host is reached by jumping
// through that host, with its host key checked as strictly as the VMs'.
import type { ClusterModel, SiteModel, VmModel } from "../model/cluster-model";

export interface JumpHost {
  /** The ssh_config `Host` alias of the VM host. */
  readonly alias: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly identityFile?: string;
  /** `[host]:port type base64` when the config gave the host's key (not only its fingerprint). */
  readonly knownHostsLine?: string;
}

type JumpModel = Pick<ClusterModel, "cluster" | "sites">;

/** The host `vm` is reached through, if any. */
export function jumpHostOf(model: JumpModel, vm: Pick<VmModel, "site">): JumpHost | undefined {
  if (model.sites.length < 2 || model.sites.some((site) => site.host.type === "local" && site.host.netns === undefined)) return undefined;
  const site = model.sites.find((s) => s.name === vm.site);
  return site === undefined ? undefined : jumpHost(model, site);
}

function jumpHost(model: JumpModel, site: SiteModel): JumpHost | undefined {
  const host = site.host;
  if (host.type !== "ssh") return undefined;
  const key = host.hostKey.publicKey;
  const pattern = host.port === 22 ? host.host : `[${host.host}]:${host.port}`;
  return {
    alias: `${model.cluster}-host-${site.name}`,
    host: host.host,
    port: host.port,
    user: host.user,
    ...(host.privateKeyFile !== undefined && { identityFile: host.privateKeyFile }),
    ...(key !== undefined && { knownHostsLine: `${pattern} ${key.type} ${key.base64}` }),
  };
}

/** Every host some VM is reached through, once each, in the order of `hosts`. */
export function jumpHosts(model: JumpModel & Pick<ClusterModel, "vms">): JumpHost[] {
  const seen = new Map<string, JumpHost>();
  for (const vm of model.vms) {
    const jump = jumpHostOf(model, vm);
    if (jump !== undefined) seen.set(jump.alias, jump);
  }
  return [...seen.values()];
}
