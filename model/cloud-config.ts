// A user's own cloud-config (vms[].cloudConfig, defaults.cloudConfig): the cloud-init modules a lab
// adds to ours. Only modules whose merge is well defined are taken; what vm-cluster owns (host name,
// root's keys, host keys, the CA) is refused here, by name, so a clash never reaches a guest.
import * as path from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { ownerOfGuestFile } from "./guest-paths";
import { USER_NAME } from "./identifiers";
import type { Parsed } from "./parsed";
import { strictObject } from "./strict-object";

/** The cloud-config keys merged with ours. */
export const CLOUD_CONFIG_KEYS = ["write_files", "runcmd", "bootcmd", "packages", "users"] as const;

// Keys of cloud-config that vm-cluster sets itself, and the config key that says what they hold.
const OWNED_KEYS: Readonly<Record<string, string>> = {
  hostname: "vms[].name",
  fqdn: "vms[].name and network.domain",
  prefer_fqdn_over_hostname: "vms[].name and network.domain",
  manage_etc_hosts: "network.domain (vm-cluster writes /etc/hosts)",
  ssh_keys: "the VM's host key, which vm-cluster generates",
  ssh_genkeytypes: "the VM's host key, which vm-cluster generates",
  ssh_deletekeys: "the VM's host key, which vm-cluster generates",
  ssh_authorized_keys: "sshPublicKey",
  disable_root: "sshPublicKey (root logs in with its key)",
  ssh_pwauth: "vm-cluster's sshd settings (key only)",
  ca_certs: "caCertificate",
  "ca-certs": "caCertificate",
  chpasswd: "consolePassword",
  password: "consolePassword",
};

const COMMAND = "a command: a shell line, or a list of the program and its arguments";
const command = z.union([z.string(), z.array(z.string()).min(1)], { error: COMMAND });

const guestPath = z.string().superRefine((p, ctx) => {
  if (!path.posix.isAbsolute(p)) ctx.addIssue({ code: "custom", message: `"${p}" is not an absolute path in the guest` });
  const owner = ownerOfGuestFile(p);
  if (owner !== undefined) ctx.addIssue({ code: "custom", message: `"${p}" is vm-cluster's to write: it holds ${owner}` });
});

const writeFile = strictObject({
  path: guestPath,
  content: z.string(),
  owner: z.string().optional(),
  permissions: z
    .string({ error: "must be a quoted octal mode such as '0644' (unquoted, YAML reads a number)" })
    .regex(/^0?[0-7]{3,4}$/, { error: "must be an octal mode such as '0644'" })
    .optional(),
  encoding: z.enum(["text/plain", "b64", "base64", "gzip", "gz", "gz+base64", "gzip+base64", "gz+b64", "gzip+b64"]).optional(),
  append: z.boolean().optional(),
  defer: z.boolean().optional(),
});

// A user's entry is cloud-init's own (groups, sudo, shell, keys, ...); only its name is ours to check.
const user = z.looseObject({
  name: z.string().superRefine((name, ctx) => {
    if (!USER_NAME.test(name)) ctx.addIssue({ code: "custom", message: `"${name}" is not a user name (lowercase letters, digits, "_", "-")` });
    else if (name === "root")
      ctx.addIssue({ code: "custom", message: "root is vm-cluster's: its keys come from sshPublicKey, its password from consolePassword" });
  }),
});

const packageSpec = z.union([z.string(), z.tuple([z.string(), z.string()])], { error: "a package name, or [name, version]" });

export const cloudConfigSchema = z
  .record(z.string(), z.unknown(), { error: "expected a cloud-config mapping of module keys (write_files, runcmd, packages, bootcmd, users)" })
  .superRefine((config, ctx) => {
    for (const key of Object.keys(config)) {
      if ((CLOUD_CONFIG_KEYS as readonly string[]).includes(key)) continue;
      const owner = OWNED_KEYS[key];
      ctx.addIssue({
        code: "custom",
        path: [key],
        message:
          owner !== undefined
            ? `is vm-cluster's: it comes from ${owner}`
            : `is not a cloud-config key vm-cluster merges; use ${CLOUD_CONFIG_KEYS.join(", ")} (anything else can be done from runcmd)`,
      });
    }
  })
  .pipe(
    z.object({
      write_files: z.array(writeFile).default([]),
      runcmd: z.array(command).default([]),
      bootcmd: z.array(command).default([]),
      packages: z.array(packageSpec).default([]),
      users: z.array(user).default([]),
    }),
  );

/** A user's cloud-config as checked: each module's entries, in the order they run. */
export type CloudConfig = z.output<typeof cloudConfigSchema>;

/**
 * A YAML document's value, read as cloud-init reads it (YAML 1.1, as PyYAML does: `on` is true).
 * A shell script or a MIME archive is not a cloud-config to merge.
 */
export function parseCloudConfigYaml(text: string): Parsed<unknown> {
  if (/^#!/.test(text) || /^Content-Type:/i.test(text)) {
    return { ok: false, reason: "a script or MIME user-data cannot be merged with vm-cluster's; put its commands under runcmd" };
  }
  try {
    const value: unknown = parse(text, { version: "1.1" });
    return { ok: true, value: value ?? {} };
  } catch (err) {
    return { ok: false, reason: `not YAML: ${(err as Error).message.split("\n")[0]}` };
  }
}

/**
 * A VM's own cloud-config over the defaults': its commands and packages after theirs, and a file or
 * user of the same path or name in both the VM's alone, as a VM's own size is.
 */
export function mergeCloudConfigs(defaults: CloudConfig | undefined, vm: CloudConfig | undefined): CloudConfig | undefined {
  if (defaults === undefined || vm === undefined) return vm ?? defaults;
  const paths = new Set(vm.write_files.map((f) => path.posix.normalize(f.path)));
  const names = new Set(vm.users.map((u) => u.name));
  return {
    write_files: [...defaults.write_files.filter((f) => !paths.has(path.posix.normalize(f.path))), ...vm.write_files],
    runcmd: [...defaults.runcmd, ...vm.runcmd],
    bootcmd: [...defaults.bootcmd, ...vm.bootcmd],
    packages: [...defaults.packages, ...vm.packages],
    users: [...defaults.users.filter((u) => !names.has(u.name)), ...vm.users],
  };
}
