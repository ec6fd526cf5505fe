// Host-global names derived from the cluster name. libvirt pools, networks, domains and
// volumes, Linux bridges and iptables rules are shared by every stack on a host, so each
// name embeds the (hyphen-free) cluster name and two clusters can never derive the same one.
import { createHash } from "node:crypto";

/** Linux IFNAMSIZ is 16 including the terminating NUL. */
export const MAX_BRIDGE_NAME = 15;

export interface ClusterNames {
  /** libvirt storage pool. */
  readonly pool: string;
  /** libvirt network. */
  readonly network: string;
  /** Bridge used when the config names none. */
  readonly defaultBridge: string;
  /** iptables `--comment` that marks our rules so destroy/refresh find exactly them. */
  readonly firewallTag: string;
  /** Pool directory used when the config names none. */
  readonly defaultPoolDir: string;
  /** DNS domain of the VMs when the config names none: a name under `.internal`, which is never delegated. */
  readonly defaultDomain: string;
}

export interface VmNames {
  readonly domain: string;
  /** qcow2 overlay on the base image. */
  readonly diskVolume: string;
  /** cloud-init NoCloud seed (ISO labelled cidata). */
  readonly seedVolume: string;
}

export function clusterNames(cluster: string): ClusterNames {
  return {
    pool: `${cluster}-pool`,
    network: cluster,
    defaultBridge: defaultBridgeName(cluster),
    firewallTag: `vm-cluster:${cluster}`,
    defaultPoolDir: `/var/lib/libvirt/images/${cluster}`,
    defaultDomain: `${cluster}.internal`,
  };
}

export function vmNames(cluster: string, vm: string): VmNames {
  const domain = `${cluster}-${vm}`;
  return { domain, diskVolume: `${domain}.qcow2`, seedVolume: `${domain}-cidata.iso` };
}

/**
 * `vmc-<cluster>` when it fits in 15 characters; otherwise `vmc-` + the first 4 characters +
 * "_" + 6 hex digits of sha256(cluster). The "_" cannot occur in a cluster name, so the
 * shortened form never equals another cluster's full form; two long names collide only
 * if their hashes do (1 in 16.7 million).
 */
export function defaultBridgeName(cluster: string): string {
  const full = `vmc-${cluster}`;
  if (full.length <= MAX_BRIDGE_NAME) return full;
  const hash = createHash("sha256").update(cluster).digest("hex").slice(0, 6);
  return `vmc-${cluster.slice(0, 4)}_${hash}`;
}

/** A VM's data disk volume: "_" appears in no VM or disk name, so it cannot meet another VM's volume. */
export function dataDiskVolume(cluster: string, vm: string, disk: string): string {
  return `${vmNames(cluster, vm).domain}_${disk}.raw`;
}
