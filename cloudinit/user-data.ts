// The NoCloud user-data: what the seed's virt-customize step did to each VM, as #cloud-config.
import type * as pulumi from "@pulumi/pulumi";
import { parseCertificatePem } from "../model/certificate";
import { HOST_LABEL } from "../model/identifiers";
import { parsePublicKey } from "../model/ssh-key";
import type { HostKeyPair } from "../secrets/host-key";
import { misuse } from "./misuse";
import { toYaml } from "./yaml";

/** Host key types a guest may be given; DSA is gone from current OpenSSH. */
export type HostKeyType = "ed25519" | "ecdsa" | "rsa";

/** ed25519 is always given; the others only for clients that cannot use it. */
export type HostKeys = { readonly ed25519: HostKeyPair } & { readonly [T in Exclude<HostKeyType, "ed25519">]?: HostKeyPair };

export interface CaCertificate {
  /** File name stem under /usr/local/share/ca-certificates/vm-cluster/. */
  readonly name: string;
  /** One PEM certificate or a bundle of them. */
  readonly pem: string;
}

export interface UserDataArgs {
  /** RFC 1123 label. */
  readonly hostname: string;
  /** OpenSSH public key lines authorized for root: the user's, and the stack's provisioner key. */
  readonly rootAuthorizedKeys: readonly string[];
  readonly hostKeys: HostKeys;
  /** Trusted by the guest's system store (update-ca-certificates). */
  readonly caCertificate?: CaCertificate;
  /** crypt(3) hash (`$6$…`, `$y$…`) of a root password for the serial console; without it root's password stays locked. */
  readonly consolePasswordHash?: string;
  /** Mark cloud-init disabled once this first boot is done, as the seed removed it. */
  readonly disableCloudInitAfterBoot?: boolean;
}

export const CA_DIR = "/usr/local/share/ca-certificates/vm-cluster";
export const CLOUD_INIT_DISABLED_FILE = "/etc/cloud/cloud-init.disabled";

const CA_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
// `$id$…` with neither whitespace nor ":" (chpasswd -e splits on ":").
const CRYPT_HASH = /^\$[0-9a-z]+\$[^\s:]+$/;
const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

// cloud-init's own packages module would run apt even when python3 is already there, and the
// guest has no network to reach a mirror. A missing python3 (needed by Ansible) fails the final
// stage instead, so `cloud-init status --wait` reports it.
const REQUIRE_PYTHON3 =
  'command -v python3 >/dev/null || { echo "vm-cluster: python3 is missing from the image; Ansible needs it" >&2; exit 1; }';

interface UserEntry {
  name: string;
  lock_passwd: boolean;
  hashed_passwd?: string;
  ssh_authorized_keys: string[];
}

export interface WriteFile {
  path: string;
  content: string;
  owner: string;
  permissions: string;
}

/** The subset of cloud-config this project writes. */
interface CloudConfig {
  hostname: string;
  manage_etc_hosts: boolean;
  users: UserEntry[];
  disable_root: boolean;
  ssh_pwauth: boolean;
  ssh_deletekeys: boolean;
  ssh_keys: Record<string, string>;
  write_files: WriteFile[];
  runcmd: (string | string[])[];
}

/**
 * sshd's settings for root, whatever the image's sshd_config says: its key only. sshd takes the
 * first value it reads, and Debian's sshd_config includes sshd_config.d/*.conf at its top in name
 * order, so this file comes before cloud-init's own 50-cloud-init.conf.
 */
export const SSHD_DROP_IN: WriteFile = {
  path: "/etc/ssh/sshd_config.d/00-vm-cluster.conf",
  content: ["# vm-cluster: root logs in with its SSH key only.", "PermitRootLogin prohibit-password", "PasswordAuthentication no", "KbdInteractiveAuthentication no", ""].join("\n"),
  owner: "root:root",
  permissions: "0644",
};

/** `#cloud-config` user-data for one VM. */
export function userData(args: UserDataArgs, parent?: pulumi.Resource): string {
  if (!HOST_LABEL.test(args.hostname)) misuse(`hostname "${args.hostname}" is not a lowercase RFC 1123 label`, parent);
  if (args.rootAuthorizedKeys.length === 0) misuse("no root authorized key: give at least one public key", parent);
  const rootKeys = args.rootAuthorizedKeys.map((key, i) => {
    const parsed = parsePublicKey(key);
    if (!parsed.ok) misuse(`root authorized key ${i + 1} is not usable: ${parsed.reason}`, parent);
    return parsed.value.line;
  });
  if (args.consolePasswordHash !== undefined && !CRYPT_HASH.test(args.consolePasswordHash)) {
    misuse("the console password hash is not a crypt(3) hash like $6$salt$hash", parent);
  }
  const caFiles = args.caCertificate === undefined ? [] : caCertificateFiles(args.caCertificate, parent);

  const runcmd: (string | string[])[] = [
    // Without it a failing command in the middle would go unnoticed: the script's status is its last command's.
    "set -e",
    REQUIRE_PYTHON3,
  ];
  if (caFiles.length > 0) runcmd.push(["update-ca-certificates"]);
  // Last, so every step above has run before cloud-init is switched off for later boots.
  if (args.disableCloudInitAfterBoot) runcmd.push(["touch", CLOUD_INIT_DISABLED_FILE]);

  const config: CloudConfig = {
    hostname: args.hostname,
    manage_etc_hosts: true,
    users: [
      {
        name: "root",
        lock_passwd: args.consolePasswordHash === undefined,
        ...(args.consolePasswordHash === undefined ? {} : { hashed_passwd: args.consolePasswordHash }),
        ssh_authorized_keys: rootKeys,
      },
    ],
    // Root logs in with its key (cloud-init would otherwise make it print "log in as debian").
    disable_root: false,
    ssh_pwauth: false,
    // Our keys replace whatever the image has. Given ssh_keys, cloud-init generates no others (saves
    // seconds at boot); `ssh_genkeytypes: []` would say so too but fails cloud-init's schema (minItems 1),
    // which newer cloud-init reports as a degraded status.
    ssh_deletekeys: true,
    ssh_keys: sshKeys(args.hostKeys, parent),
    // write_files runs before sshd first starts: no restart needed.
    write_files: [SSHD_DROP_IN, ...caFiles],
    runcmd,
  };
  return `#cloud-config\n${toYaml(config)}`;
}

function sshKeys(hostKeys: HostKeys, parent: pulumi.Resource | undefined): Record<string, string> {
  const keys: Record<string, string> = {};
  for (const type of ["ed25519", "ecdsa", "rsa"] as const) {
    const pair = hostKeys[type];
    if (pair === undefined) continue;
    const publicKey = parsePublicKey(pair.publicKey);
    if (!publicKey.ok) misuse(`the ${type} host public key is not usable: ${publicKey.reason}`, parent);
    if (!publicKeyTypeMatches(type, publicKey.value.type)) {
      misuse(`the ${type} host key slot holds a ${publicKey.value.type} key`, parent);
    }
    if (!/^-----BEGIN OPENSSH PRIVATE KEY-----\n[\s\S]+\n-----END OPENSSH PRIVATE KEY-----\n?$/.test(pair.privateKey)) {
      misuse(`the ${type} host private key is not an unencrypted OpenSSH private key block`, parent);
    }
    keys[`${type}_private`] = pair.privateKey.endsWith("\n") ? pair.privateKey : `${pair.privateKey}\n`;
    keys[`${type}_public`] = publicKey.value.line;
  }
  return keys;
}

function publicKeyTypeMatches(slot: HostKeyType, keyType: string): boolean {
  switch (slot) {
    case "ed25519":
      return keyType === "ssh-ed25519";
    case "ecdsa":
      return keyType.startsWith("ecdsa-sha2-nistp");
    case "rsa":
      return keyType === "ssh-rsa";
    default: {
      const unknown: never = slot;
      throw new Error(`unhandled host key type ${String(unknown)}`);
    }
  }
}

// update-ca-certificates hashes one certificate per file, so a bundle becomes name-1.crt, name-2.crt, ...
export function caCertificateFiles(ca: CaCertificate, parent: pulumi.Resource | undefined): WriteFile[] {
  if (!CA_NAME.test(ca.name)) misuse(`CA certificate name "${ca.name}" is not a plain file name`, parent);
  const parsed = parseCertificatePem(ca.pem);
  if (!parsed.ok) misuse(`the CA certificate is not usable: ${parsed.reason}`, parent);
  const blocks = parsed.value.match(PEM_BLOCK) ?? [];
  return blocks.map((block, i) => ({
    path: `${CA_DIR}/${blocks.length === 1 ? ca.name : `${ca.name}-${i + 1}`}.crt`,
    content: `${block}\n`,
    owner: "root:root",
    permissions: "0644",
  }));
}
