// What happens to a running cluster when a config key changes, as the configuration reference's
// "On change" column says it. test/unit/config-changes.test.ts derives the same from the providers'
// own diffs, so a row cannot claim less than `pulumi up` does.
export const ON_CHANGE = [
  /** Nothing on the VM host or in the VMs changes. */
  "nothing on the host",
  /** Applied on the host and in the running VMs (over SSH); no VM restarts. */
  "in place",
  "adds or removes only those VMs",
  /** Plugged into or out of the running VM (virtio hot-plug); no VM restarts. */
  "adds or removes only those data disks, hot-plugged",
  /** The old disk and its data are removed; a new, empty one is hot-plugged. */
  "replaces that data disk (a new, empty one), hot-plugged",
  /** A graceful shutdown, then a start: the disk and everything on it stay. */
  "restarts this VM",
  /** A graceful shutdown (the definition and disks stay), or a start and the wait until it is ready. */
  "stops or starts this VM",
  /** cloud-init reads its seed at a first boot only: the seed is rewritten, the running VMs are left alone. */
  "next first boot only (running VMs keep theirs)",
  "restarts the VMs of this class",
  "restarts every VM",
  /** A new libvirt domain boots the same disk. */
  "recreates every VM's domain (disks kept)",
  /** A new disk and domain: a fresh first boot, the old disk's data is gone. */
  "replaces this VM",
  "replaces every VM",
  /** Removed and made anew; running VMs are plugged into the new one. */
  "replaces the cluster network",
  "replaces the cluster network, restarts every VM",
  /** Everything is removed (from the old host) and made anew. */
  "replaces the whole cluster",
  /** With `hosts`: what is on that host is removed and made anew; the other hosts keep theirs. */
  "replaces everything on this host",
  "replaces this host's network, restarts its VMs",
  "replaces this host's network",
  /** A host's checks, packages, pool, base image, network and VMs; the other hosts' routes to it. */
  "adds or removes only those hosts and their VMs",
] as const;

export type OnChange = (typeof ON_CHANGE)[number];

declare module "zod/v4/core" {
  interface GlobalMeta {
    /** What a change of this key does to a running cluster. */
    onChange?: OnChange;
  }
}
