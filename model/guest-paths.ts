// Files in the guest that vm-cluster writes at first boot and keeps up to date over SSH: a user's
// own cloud-config may not write them (model/cloud-config.ts names the clash at validation).
import * as path from "node:path";

/** The CA certificates the guest trusts, one file per certificate. */
export const CA_DIR = "/usr/local/share/ca-certificates/vm-cluster";
export const CLOUD_INIT_DISABLED_FILE = "/etc/cloud/cloud-init.disabled";
export const ETC_HOSTS = "/etc/hosts";
/** sshd's settings for root; first in name order, so its values win. */
export const SSHD_DROP_IN_PATH = "/etc/ssh/sshd_config.d/00-vm-cluster.conf";

/** What owns `file` in the guest, when vm-cluster does; undefined when it is the user's to write. */
export function ownerOfGuestFile(file: string): string | undefined {
  const p = path.posix.normalize(file);
  if (p === ETC_HOSTS || p === "/etc/hostname") return "the VM's host name (vms[].name, network.domain)";
  if (p === SSHD_DROP_IN_PATH) return "vm-cluster's sshd settings for root (key only)";
  if (p.startsWith("/etc/ssh/ssh_host_")) return "the VM's host key, which vm-cluster generates and pins in known_hosts";
  if (p === "/root/.ssh/authorized_keys" || p === "/root/.ssh/authorized_keys2") return "root's keys (sshPublicKey)";
  if (p === CA_DIR || p.startsWith(`${CA_DIR}/`)) return "the cluster's CA certificates (caCertificate)";
  if (p === CLOUD_INIT_DISABLED_FILE) return "disableCloudInitAfterBoot";
  return undefined;
}
