// Host preparation as drift-aware dynamic resources, in the order a cluster needs them:
// the virtualization check first (it changes nothing), then packages, the libvirt daemon,
// ip_forward and libvirt's firewall backend; the firewall rules once the cluster's bridge exists.
export * from "./virtualization-check";
export * from "./packages";
export * from "./libvirt-daemon";
export * from "./ip-forward";
export * from "./firewall-backend";
export * from "./firewall-rules";
export * from "./distro";
export * from "./iptables";
export { DEFAULT_STATE_DIR, defaultUser } from "./shared-change";
export * from "./peer-routes";
