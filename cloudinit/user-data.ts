// The NoCloud user-data: what the seed's virt-customize step did to each VM, as #cloud-config.
// Its inputs come checked: the config's values by the model at the edge (host name, the user's key,
// the CA bundle), the rest from our own generators (host and provisioner keys, the password hash).
// The YAML writer quotes whatever they hold.
import type { CloudConfig as UserCloudConfig } from "../model";
import { CA_DIR, CLOUD_INIT_DISABLED_FILE, ETC_HOSTS, SSHD_DROP_IN_PATH } from "../model/guest-paths";
import type { HostKeyPair } from "../secrets/host-key";
import { toYaml } from "./yaml";
import { shellQuote } from "../transport/command";

/** Host key types a guest may be given; DSA is gone from current OpenSSH. */
export type HostKeyType = "ed25519" | "ecdsa" | "rsa";

/** ed25519 is always given; the others only for clients that cannot use it. */
export type HostKeys = { readonly ed25519: HostKeyPair } & { readonly [T in Exclude<HostKeyType, "ed25519">]?: HostKeyPair };

export interface CaCertificate {
  /** File name stem under /usr/local/share/ca-certificates/vm-cluster/: the cluster's name. */
  readonly name: string;
  /** One PEM certificate or a bundle of them, as the model checked and normalized it (just the blocks). */
  readonly pem: string;
}

export interface UserDataArgs {
  /** The VM's name: an RFC 1123 label. */
  readonly hostname: string;
  /** `<name>.<domain>`, what `hostname -f` prints. */
  readonly fqdn: string;
  /** OpenSSH public key lines authorized for root, at least one: the user's, and the stack's provisioner key. */
  readonly rootAuthorizedKeys: readonly string[];
  readonly hostKeys: HostKeys;
  /** Trusted by the guest's system store (update-ca-certificates). */
  readonly caCertificate?: CaCertificate;
  /** crypt(3) hash (`$6$…`) of a root password for the serial console; without it root's password stays locked. */
  readonly consolePasswordHash?: string;
  /** Mark cloud-init disabled once this first boot is done, as the seed removed it. */
  readonly disableCloudInitAfterBoot?: boolean;
  /** The user's own modules, checked by the model not to touch what the ones above set. */
  readonly cloudConfig?: UserCloudConfig;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

// cloud-init's own packages module would run apt even when python3 is already there, and the
// guest has no network to reach a mirror. A missing python3 (needed by Ansible) fails the final
// stage instead, so `cloud-init status --wait` reports it.
const REQUIRE_PYTHON3 = 'command -v python3 >/dev/null || { echo "vm-cluster: python3 is missing from the image; Ansible needs it" >&2; exit 1; }';

/**
 * Trusts the CA files written under `caDir` as update-ca-certificates would, without its cost:
 * it re-reads every certificate in the store one process at a time, ~33 s under software
 * emulation. On a first boot the store is the image's, already consistent, so adding ours is a
 * link named like its own, the PEM appended to the bundle, and one `openssl rehash`. Where hooks
 * want to hear of new certificates (update.d, e.g. Java's keystore) or the bundle is missing, the
 * real tool runs. A later update-ca-certificates run rebuilds the same store from scratch.
 */
export function trustCaScript(caDir: string = CA_DIR, certsDir = "/etc/ssl/certs", hooksDir = "/etc/ca-certificates/update.d"): string {
  const [ca, certs, hooks] = [caDir, certsDir, hooksDir].map((p) => shellQuote([p]));
  return [
    `if [ -z "$(ls -A ${hooks} 2>/dev/null)" ] && [ -f ${certs}/ca-certificates.crt ]; then`,
    `  for crt in ${ca}/*.crt; do`,
    `    pem=${certs}/"$(basename "$crt" .crt)".pem`,
    `    if [ ! -e "$pem" ]; then ln -s "$crt" "$pem"; sed -e '$a\\' "$crt" >> ${certs}/ca-certificates.crt; fi`,
    "  done",
    `  openssl rehash ${certs} >/dev/null`,
    "else",
    "  update-ca-certificates",
    "fi",
  ].join("\n");
}

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

/** The subset of cloud-config this project writes, the user's modules merged in. */
interface CloudConfig {
  hostname: string;
  fqdn: string;
  manage_etc_hosts: boolean;
  users: (UserEntry | UserCloudConfig["users"][number])[];
  disable_root: boolean;
  ssh_pwauth: boolean;
  ssh_deletekeys: boolean;
  ssh_keys: Record<string, string>;
  write_files: (WriteFile | UserCloudConfig["write_files"][number])[];
  bootcmd?: UserCloudConfig["bootcmd"];
  packages?: UserCloudConfig["packages"];
  runcmd: (string | readonly string[])[];
}

/**
 * sshd's settings for root, whatever the image's sshd_config says: its key only. sshd takes the
 * first value it reads, and Debian's sshd_config includes sshd_config.d/*.conf at its top in name
 * order, so this file comes before cloud-init's own 50-cloud-init.conf.
 */
export const SSHD_DROP_IN: WriteFile = {
  path: SSHD_DROP_IN_PATH,
  content: [
    "# vm-cluster: root logs in with its SSH key only.",
    "PermitRootLogin prohibit-password",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "",
  ].join("\n"),
  owner: "root:root",
  permissions: "0644",
};

/**
 * The guest's /etc/hosts, as cloud-init's Debian template writes it, with the FQDN that `hostname -f`
 * prints. Written by us, not by cloud-init's manage_etc_hosts: cloud-init would rewrite it at every
 * boot from the user-data of the first one, undoing a later change of the domain.
 */
export function etcHosts(hostname: string, fqdn: string): string {
  return [
    "# Written by vm-cluster (its network.domain); pulumi up rewrites it.",
    "127.0.0.1 localhost",
    `127.0.1.1 ${fqdn} ${hostname}`,
    "::1 localhost ip6-localhost ip6-loopback",
    "ff02::1 ip6-allnodes",
    "ff02::2 ip6-allrouters",
    "",
  ].join("\n");
}

/**
 * `#cloud-config` user-data for one VM. The user's modules come after ours: their files beside ours,
 * their commands after ours (so the CA is trusted) and before cloud-init is switched off.
 */
export function userData(args: UserDataArgs): string {
  const caFiles = args.caCertificate === undefined ? [] : caCertificateFiles(args.caCertificate);
  const own = args.cloudConfig;

  const runcmd: (string | readonly string[])[] = [
    // Without it a failing command in the middle would go unnoticed: the script's status is its last command's.
    "set -e",
    REQUIRE_PYTHON3,
  ];
  if (caFiles.length > 0) runcmd.push(trustCaScript());
  runcmd.push(...(own?.runcmd ?? []));
  // Last, so every step above has run before cloud-init is switched off for later boots.
  if (args.disableCloudInitAfterBoot) runcmd.push(["touch", CLOUD_INIT_DISABLED_FILE]);

  const config: CloudConfig = {
    hostname: args.hostname,
    fqdn: args.fqdn,
    manage_etc_hosts: false,
    users: [
      {
        name: "root",
        lock_passwd: args.consolePasswordHash === undefined,
        ...(args.consolePasswordHash === undefined ? {} : { hashed_passwd: args.consolePasswordHash }),
        ssh_authorized_keys: [...args.rootAuthorizedKeys],
      },
      ...(own?.users ?? []),
    ],
    // Root logs in with its key (cloud-init would otherwise make it print "log in as debian").
    disable_root: false,
    ssh_pwauth: false,
    // Our keys replace whatever the image has. Given ssh_keys, cloud-init generates no others (saves
    // seconds at boot); `ssh_genkeytypes: []` would say so too but fails cloud-init's schema (minItems 1),
    // which newer cloud-init reports as a degraded status.
    ssh_deletekeys: true,
    ssh_keys: sshKeys(args.hostKeys),
    // write_files runs before sshd first starts: no restart needed.
    write_files: [
      SSHD_DROP_IN,
      { path: ETC_HOSTS, content: etcHosts(args.hostname, args.fqdn), owner: "root:root", permissions: "0644" },
      ...caFiles,
      ...(own?.write_files ?? []),
    ],
    // Only when given: a packages list makes cloud-init run apt.
    ...(own !== undefined && own.bootcmd.length > 0 && { bootcmd: own.bootcmd }),
    ...(own !== undefined && own.packages.length > 0 && { packages: own.packages }),
    runcmd,
  };
  return `#cloud-config\n${toYaml(config)}`;
}

function sshKeys(hostKeys: HostKeys): Record<string, string> {
  const keys: Record<string, string> = {};
  for (const type of ["ed25519", "ecdsa", "rsa"] as const) {
    const pair = hostKeys[type];
    if (pair === undefined) continue;
    keys[`${type}_private`] = pair.privateKey.endsWith("\n") ? pair.privateKey : `${pair.privateKey}\n`;
    keys[`${type}_public`] = pair.publicKey.trim();
  }
  return keys;
}

// update-ca-certificates hashes one certificate per file, so a bundle becomes name-1.crt, name-2.crt, ...
export function caCertificateFiles(ca: CaCertificate): WriteFile[] {
  const blocks = ca.pem.match(PEM_BLOCK) ?? [];
  return blocks.map((block, i) => ({
    path: `${CA_DIR}/${blocks.length === 1 ? ca.name : `${ca.name}-${i + 1}`}.crt`,
    content: `${block}\n`,
    owner: "root:root",
    permissions: "0644",
  }));
}
