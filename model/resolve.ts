// From checked config sections to the ClusterModel: defaults applied, names derived.
import type { ClusterModel, ImageModel } from "./cluster-model";
import { mergeCloudConfigs } from "./cloud-config";
import { formatCidr, formatIpv4, netmask, parseCidr } from "./ipv4";
import { stableMac } from "./mac";
import { clusterNames, dataDiskVolume, vmNames } from "./names";
import type { ClusterConfig } from "./schema";
import { siteAddresses, siteConfigs, siteNameOf } from "./sites";

export function resolveModel(config: ClusterConfig): ClusterModel {
  const names = clusterNames(config.cluster);
  const domain = config.network.domain ?? names.defaultDomain;
  return {
    cluster: config.cluster,
    sites: siteConfigs(config).map((site) => {
      const cidr = parseCidr(site.network.cidr)!;
      const addresses = siteAddresses(cidr, site.network);
      return {
        ...(site.name !== undefined && { name: site.name }),
        host: site.host,
        lan: {
          interface: site.lan!.interface,
          subnet: formatCidr(parseCidr(site.lan!.subnet)!),
          ...(site.lan!.address !== undefined && { address: site.lan!.address }),
        },
        network: {
          name: names.network,
          bridge: config.network.bridge ?? names.defaultBridge,
          cidr: formatCidr(cidr),
          prefix: cidr.prefix,
          netmask: formatIpv4(netmask(cidr.prefix)),
          gateway: formatIpv4(addresses.gateway),
          dhcpStart: formatIpv4(addresses.dhcpStart),
          dhcpEnd: formatIpv4(addresses.dhcpEnd),
          domain,
        },
      };
    }),
    pool: { name: names.pool, dir: config.poolDir ?? names.defaultPoolDir },
    firewallTag: names.firewallTag,
    vms: config.vms.map((vm) => {
      // The VM's own size, then its class's, then the defaults.
      const sizes = vm.class === undefined ? {} : config.classes[vm.class]!;
      const cloudConfig = mergeCloudConfigs(config.defaults.cloudConfig, vm.cloudConfig);
      return {
        name: vm.name,
        ...(config.hosts !== undefined && { site: siteNameOf(config, vm)! }),
        ip: vm.ip,
        mac: vm.mac ?? stableMac(config.cluster, vm.name),
        memoryMiB: vm.memoryMiB ?? sizes.memoryMiB ?? config.defaults.memoryMiB,
        vcpus: vm.vcpus ?? sizes.vcpus ?? config.defaults.vcpus,
        diskBytes: vm.disk ?? sizes.disk ?? config.defaults.disk,
        fqdn: `${vm.name}.${domain}`,
        groups: vm.groups,
        running: vm.running,
        ...(cloudConfig !== undefined && { cloudConfig }),
        dataDisks: vm.dataDisks.map((disk) => ({ name: disk.name, sizeBytes: disk.size, volume: dataDiskVolume(config.cluster, vm.name, disk.name) })),
        ...vmNames(config.cluster, vm.name),
      };
    }),
    inventoryChildren: config.inventory.children,
    sshPublicKey: config.sshPublicKey.line,
    ...(config.sshPublicKey.identityFile !== undefined && { sshIdentityFile: config.sshPublicKey.identityFile }),
    ...(config.caCertificate !== undefined && { caCertificatePem: config.caCertificate }),
    image: resolveImage(config.image),
    domainType: config.domainType,
    readinessTimeoutSeconds: config.readinessTimeoutSeconds,
    consolePassword: config.consolePassword,
    disableCloudInitAfterBoot: config.disableCloudInitAfterBoot,
  };
}

function resolveImage(image: ClusterConfig["image"]): ImageModel {
  const fileName = decodeURIComponent(new URL(image.url).pathname.split("/").at(-1)!);
  const checksum =
    image.sha512 !== undefined
      ? { kind: "sha512" as const, sha512: image.sha512.toLowerCase() }
      : { kind: "checksumsUrl" as const, checksumsUrl: image.checksumsUrl! };
  return { url: image.url, fileName, checksum };
}
