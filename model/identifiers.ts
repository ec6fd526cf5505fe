// Syntax of the names users write in the config. They end up in argv arrays, libvirt XML,
// iptables rules and generated files, so the allowed alphabets are deliberately narrow.
import { isIP } from "node:net";

/**
 * Cluster names: lowercase letters and digits, a letter first, at most 20 characters.
 * This is an RFC 1123 label without hyphens: derived names join the cluster and a VM
 * name with "-", and only a hyphen-free cluster keeps "a" + "b-c" apart from "a-b" + "c".
 * It is also a valid Ansible group name (Ansible warns on "-").
 */
export const CLUSTER_NAME = /^[a-z][a-z0-9]{0,19}$/;

/** RFC 1123 host name label, lowercase so that names differing only by case cannot clash. */
export const HOST_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Linux network interface names: the kernel allows up to 15 bytes of almost anything;
 * we accept the conventional alphabet and no leading "-" (it would read as an option).
 */
export const INTERFACE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;

/** POSIX portable user names as useradd accepts them. */
export const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

/**
 * Ansible group names: letters, digits and "_", not starting with a digit (Ansible warns on "-" and
 * would rewrite it).
 */
export const ANSIBLE_GROUP = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * Data disk names: the guest sees one as /dev/disk/by-id/virtio-<name>, and virtio carries at most
 * 20 bytes of serial. No "_": the volume is `<domain>_<name>.raw`, apart from every VM's own volumes.
 */
export const DATA_DISK_NAME = /^[a-z0-9]([a-z0-9-]{0,18}[a-z0-9])?$/;

/** Groups every Ansible inventory has already. */
export const RESERVED_GROUPS: readonly string[] = ["all", "ungrouped"];

/** A DNS domain of lowercase RFC 1123 labels, such as `anemoi.internal`. */
export const DNS_DOMAIN = /^(?=.{1,189}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

const DNS_NAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** An SSH destination: a DNS name or an IPv4/IPv6 address (but not a mistyped IPv4 like 10.0.0.300). */
export function isHostAddress(text: string): boolean {
  return isIP(text) !== 0 || (DNS_NAME.test(text) && !/^[0-9.]+$/.test(text));
}

/**
 * Whether ssh_config (and Ansible's ssh arguments) can carry the path as it is: not empty, no
 * quotes, backslashes or newlines, and no `%` or `$`, which ssh would expand as tokens.
 */
export function isSshConfigPath(path: string): boolean {
  return path !== "" && !/["'\\\n\r%$]/.test(path);
}
