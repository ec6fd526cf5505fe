// The zod schema of the `vm-cluster:` stack config's sections. Field schemas check one value each;
// rules across sections (cross-checks.ts) and the resolved model (resolve.ts) are added on top in
// config.ts, which is what keeps this file free of imports back into them.
import * as path from "node:path";
import { z } from "zod";
import { type ConfigIo, readConfigFile } from "./config-io";
import { parseCertificatePem } from "./certificate";
import { CLOUD_CONFIG_KEYS, cloudConfigSchema, parseCloudConfigYaml } from "./cloud-config";
import * as defaults from "./defaults";
import {
  ANSIBLE_GROUP,
  CLUSTER_NAME,
  DATA_DISK_NAME,
  DNS_DOMAIN,
  HOST_LABEL,
  INTERFACE_NAME,
  RESERVED_GROUPS,
  USER_NAME,
  isHostAddress,
  isSshConfigPath,
} from "./identifiers";
import { formatCidr, networkAddress, parseCidr, parseIpv4 } from "./ipv4";
import { isLocalUnicastMac, parseMac } from "./mac";
import type { Parsed } from "./parsed";
import { normalPoolDir, poolDirProblem } from "./pool-dir";
import { parseSize } from "./size";
import { strictObject } from "./strict-object";
import { type HostKeyPin, looksLikePrivateKey, parseHostKeyPin, parsePublicKey } from "./ssh-key";
import type { OnChange } from "./on-change";

// Pulumi hands top-level scalars over as strings ("2048", "true"); nested JSON keeps its types.
const toNumber = (v: unknown) => (typeof v === "string" && /^\s*-?[0-9]+\s*$/.test(v) ? Number(v) : v);
const toBoolean = (v: unknown) => (v === "true" ? true : v === "false" ? false : v);

const flag = z.preprocess(toBoolean, z.boolean());

function count(unit: string) {
  const message = `must be a whole number of ${unit}, at least 1`;
  return z.preprocess(toNumber, z.number().int({ error: message }).positive({ error: message }));
}

/** A string whose problem, if any, `problem` describes. */
function checked(problem: (s: string) => string | undefined) {
  return z.string().superRefine((s, ctx) => {
    const message = problem(s);
    if (message !== undefined) ctx.addIssue({ code: "custom", message });
  });
}

function exactlyOne<T extends object>(a: keyof T & string, b: keyof T & string, what: string) {
  return (value: T, ctx: z.RefinementCtx<T>) => {
    const count = [a, b].filter((key) => value[key] !== undefined).length;
    if (count !== 1)
      ctx.addIssue({ code: "custom", message: `set exactly one of ${a} and ${b} (${what}); ${count === 0 ? "neither is set" : "both are set"}` });
  };
}

const clusterName = checked((s) =>
  CLUSTER_NAME.test(s)
    ? undefined
    : `"${s}" is not a valid cluster name: use 1-20 lowercase letters and digits, starting with a letter (no "-": derived names join cluster and VM names with "-")`,
);

const hostLabel = checked((s) =>
  HOST_LABEL.test(s) ? undefined : `"${s}" is not an RFC 1123 host name: use 1-63 lowercase letters, digits and "-", not starting or ending with "-"`,
);

const groupName = checked((s) => {
  if (!ANSIBLE_GROUP.test(s)) return `"${s}" is not an Ansible group name: use letters, digits and "_", not starting with a digit (Ansible rewrites "-")`;
  return RESERVED_GROUPS.includes(s) ? `"${s}" is a group every Ansible inventory has already; choose another name` : undefined;
});

const dataDiskName = checked((s) =>
  DATA_DISK_NAME.test(s)
    ? undefined
    : `"${s}" is not a data disk name: use 1-20 lowercase letters, digits and "-", not starting or ending with "-" (the guest sees /dev/disk/by-id/virtio-<name>, at most 20 characters)`,
);

/** The most data disks a VM may have: each takes a PCIe port of the domain. */
export const MAX_DATA_DISKS = 8;

const className = checked((s) =>
  HOST_LABEL.test(s) ? undefined : `"${s}" is not a class name: use 1-63 lowercase letters, digits and "-", not starting or ending with "-"`,
);

const interfaceName = checked((s) => {
  if (INTERFACE_NAME.test(s)) return undefined;
  return s.length > 15
    ? `"${s}" has ${s.length} characters; Linux interface names have at most 15`
    : `"${s}" is not a Linux interface name: use letters, digits, "_", "." and "-", not starting with "-"`;
});

const ipv4 = checked((s) => (parseIpv4(s) === undefined ? `"${s}" is not an IPv4 address like 172.17.2.10` : undefined));

function cidr(limit?: { maxPrefix: number; why: string }) {
  return checked((s) => {
    const parsed = parseCidr(s);
    if (!parsed) return `"${s}" is not an IPv4 CIDR like 172.17.2.0/24`;
    if (parsed.base !== networkAddress(parsed)) return `"${s}" has host bits set; write the network as ${formatCidr(parsed)}`;
    return limit && parsed.prefix > limit.maxPrefix ? `"${s}" is too small: ${limit.why}; use /${limit.maxPrefix} or shorter, e.g. /24` : undefined;
  });
}

const mac = checked((s) => {
  const parsed = parseMac(s);
  if (!parsed) return `"${s}" is not a MAC address like 52:54:00:12:34:56`;
  return isLocalUnicastMac(parsed)
    ? undefined
    : `"${s}" is not a locally administered unicast MAC (first octet with bit 1 set and bit 0 clear); use the 52:54:00:xx:xx:xx range or leave mac out to get a stable one`;
}).transform((s) => s.toLowerCase());

// A string like "35G" or a byte count, so the input type is `unknown`: the title names it for the reference.
const size = z
  .unknown()
  .transform((v, ctx) => {
    const bytes = typeof v === "string" || typeof v === "number" ? parseSize(v) : undefined;
    const problem =
      v === undefined
        ? "is required: a size such as 10G"
        : bytes === undefined
          ? `${JSON.stringify(v)} is not a size: write e.g. 35G or 35GiB (K, M, G, T are 1024-based, as in qemu-img) or a byte count`
          : bytes === 0
            ? "must be more than 0"
            : bytes % 512 !== 0
              ? `${bytes} bytes is not a multiple of 512 (qcow2 sizes are whole sectors)`
              : undefined;
    if (problem === undefined) return bytes!;
    ctx.addIssue({ code: "custom", message: problem });
    return z.NEVER;
  })
  .meta({ title: "size" });

function url(what: string) {
  return checked((s) => {
    // The URL parser drops tabs and newlines silently; curl would still get them.
    if (/[\s]/.test(s)) return `the ${what} URL contains white space or a line break; percent-encode it (%20) or remove it`;
    let parsed: URL;
    try {
      parsed = new URL(s);
    } catch {
      return `"${s}" is not a URL; give the ${what} as http://, https:// or file:// URL`;
    }
    if (!["http:", "https:", "file:"].includes(parsed.protocol)) return `"${s}" uses ${parsed.protocol}; only http://, https:// and file:// are supported`;
    return parsed.pathname.endsWith("/") ? `"${s}" names a directory; give the URL of the ${what} itself` : undefined;
  });
}

const poolDir = checked(poolDirProblem).transform(normalPoolDir);

/**
 * The private key beside a `.pub` file, as the user wrote its path (ssh and Ansible expand `~`
 * themselves), for the ssh_config and inventory outputs; ssh falls back to the agent when only the
 * `.pub` exists. None for a path those files cannot carry.
 */
function identityFileOf(publicKeyFile: string): string | undefined {
  const file = sshPath(publicKeyFile);
  return file?.endsWith(".pub") ? file.slice(0, -".pub".length) : undefined;
}

/** A key file's path for ssh_config: relative made absolute (it is read from the project folder), so the outputs work from any folder. */
function sshPath(file: string): string | undefined {
  const absolute = file.startsWith("~") ? file : path.resolve(file);
  return isSshConfigPath(absolute) ? absolute : undefined;
}

/** Text from a file or given inline, parsed; a problem is reported at `key`. Key text never goes into messages. */
function load<T>(
  io: ConfigIo,
  ctx: z.RefinementCtx,
  key: string,
  source: { file: string } | { text: string },
  what: string,
  parse: (text: string) => Parsed<T>,
): T | undefined {
  const read = "file" in source ? readConfigFile(io, source.file) : { ok: true as const, value: { path: "the value", text: source.text } };
  const parsed = read.ok ? parse(read.value.text) : undefined;
  if (parsed?.ok) return parsed.value;
  const message = read.ok ? `${read.value.path} is not ${what}: ${parsed!.reason}` : read.reason;
  ctx.addIssue({ code: "custom", path: [key], message });
  return undefined;
}

const PORT = "must be a TCP port number, 1-65535";

const FIRST_BOOT = "next first boot only (running VMs keep theirs)";

/** A user's own cloud-config, from a file or inline (a mapping, or YAML text), checked as cloud-config. */
function cloudConfig(io: ConfigIo, description: string) {
  return strictObject({
    file: z.string().optional().meta({
      onChange: FIRST_BOOT,
      description: "Path of a cloud-config YAML file on the machine that runs Pulumi (`~/` is expanded). Example: `lab/worker.yaml`.",
    }),
    inline: z.unknown().optional().meta({
      title: "mapping or YAML text",
      onChange: FIRST_BOOT,
      description: 'The cloud-config itself: a mapping in the stack file, or its YAML text. Example: `{ runcmd: ["modprobe br_netfilter"] }`.',
    }),
  })
    .superRefine(exactlyOne("file", "inline", "the cloud-config"))
    .transform((spec, ctx) => {
      if (spec.file !== undefined) return load(io, ctx, "file", { file: spec.file }, "a cloud-config", parseCloudConfigYaml) ?? z.NEVER;
      if (typeof spec.inline === "string") return load(io, ctx, "inline", { text: spec.inline }, "a cloud-config", parseCloudConfigYaml) ?? z.NEVER;
      return spec.inline;
    })
    .pipe(cloudConfigSchema)
    .optional()
    .meta({ onChange: FIRST_BOOT, description });
}

const CLOUD_CONFIG_RULES = `Set exactly one of \`file\` and \`inline\`. Its keys: ${CLOUD_CONFIG_KEYS.map((k) => `\`${k}\``).join(", ")}; what vm-cluster sets itself (host name, root's keys and password, host keys, the CA, /etc/hosts) is refused, named. Its \`runcmd\` runs after vm-cluster's, under \`set -e\` (a failing command fails \`pulumi up\`), before \`pulumi up\` returns. cloud-init reads it at a first boot only: a change reaches a new VM, or one reset to a fresh first boot (see Changing a running cluster).`;

/** A host entry: how to reach it, plus `extra` keys (a site's LAN and network in `hosts`). */
function hostEntry<E extends z.ZodRawShape>(io: ConfigIo, extra: E, replaced: OnChange) {
  const sudo = flag
    .default(false)
    .meta({ onChange: "in place", description: "Run the host's commands through `sudo -n`, for a user other than root with password-less sudo." });
  const local = strictObject({
    type: z.literal("local").meta({ onChange: replaced, description: "`local`: the machine that runs Pulumi; `ssh`: a remote machine, reached over SSH." }),
    sudo,
    // A network namespace that keeps the cluster's bridge, dnsmasq and firewall rules off the
    // machine's own network: the demo and the tests on a machine that must not route VM traffic.
    // Not starting with "-": it follows `ip netns exec`, which would read it as an option.
    netns: checked((s) =>
      /^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,63}$/.test(s) && !/^\.\.?$/.test(s)
        ? undefined
        : `"${s}" is not a network namespace name (letters, digits, "_", ".", "-", not starting with "-")`,
    )
      .optional()
      .meta({
        onChange: replaced,
        description:
          "An existing network namespace to run every host command in (`ip netns exec`), so the cluster's bridge, dnsmasq and firewall rules stay off the machine's own network. The demo and the tests use it.",
      }),
    ...extra,
  });
  const ssh = strictObject({
    type: z.literal("ssh").meta({ onChange: replaced, description: "`local`: the machine that runs Pulumi; `ssh`: a remote machine, reached over SSH." }),
    host: checked((s) => (isHostAddress(s) ? undefined : `"${s}" is not a host name or IP address`)).meta({
      onChange: replaced,
      description: "DNS name or IP address of the VM host. Example: `vmhost.example`.",
    }),
    port: z
      .preprocess(toNumber, z.number().int({ error: PORT }).min(1, { error: PORT }).max(65535, { error: PORT }))
      .default(defaults.DEFAULT_SSH_PORT)
      .meta({ onChange: replaced, description: "SSH port of the VM host." }),
    user: checked((s) => (USER_NAME.test(s) ? undefined : `"${s}" is not a user name (lowercase letters, digits, "_", "-")`)).meta({
      onChange: "in place",
      description: "User to log in as: `root`, or a user with password-less sudo and `sudo: true`.",
    }),
    privateKey: z.string().meta({
      onChange: "in place",
      description:
        "The SSH private key, without a passphrase: its path on the machine that runs Pulumi (`~/` is expanded; e.g. `~/.ssh/id_ed25519`), or the key text itself (recognised by its `-----BEGIN`), best set as a secret.",
    }),
    hostKey: z.string().meta({
      onChange: "in place",
      description:
        "The host key the VM host must present, so no other machine can pose as it: its `SHA256:...` fingerprint as `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` prints it on the host, or a known_hosts line.",
    }),
    sudo,
    ...extra,
  });
  return z
    .discriminatedUnion("type", [local, ssh], {
      error: (issue) => (issue.code === "invalid_union" ? 'set type to "local" (this machine) or "ssh"' : undefined),
    })
    .transform((entry, ctx) => withHostKeys(io, ctx, entry as (LocalHostIn | SshHostIn) & Extra<E>));
}

/** The output of a host entry's extra keys; nothing for none (an empty object's output would be Record<string, never>). */
type Extra<E extends z.ZodRawShape> = keyof E extends never ? unknown : z.output<z.ZodObject<E>>;

interface LocalHostIn {
  type: "local";
  sudo: boolean;
  netns?: string;
}

interface SshHostIn {
  type: "ssh";
  host: string;
  port: number;
  user: string;
  privateKey: string;
  hostKey: string;
  sudo: boolean;
}

type SshHostOut = Omit<SshHostIn, "hostKey"> & { hostKey: HostKeyPin; privateKeyFile?: string };

/** An ssh host's private key read and its host key parsed; a local host as it is. */
function withHostKeys<X>(io: ConfigIo, ctx: z.RefinementCtx, host: (LocalHostIn | SshHostIn) & X): (LocalHostIn & X) | (SshHostOut & X) {
  if (host.type === "local") return host;
  // A literal key is recognisable by its PEM armour; anything else is a path.
  const source = host.privateKey.includes("-----BEGIN") ? { text: host.privateKey } : { file: host.privateKey };
  const privateKey = load(io, ctx, "privateKey", source, "a private key", (text) =>
    looksLikePrivateKey(text) ? { ok: true, value: text } : { ok: false, reason: "expected a -----BEGIN ... PRIVATE KEY----- block" },
  );
  const hostKey = parseHostKeyPin(host.hostKey);
  if (!hostKey.ok) {
    ctx.addIssue({ code: "custom", path: ["hostKey"], message: `not a SHA256:... fingerprint or known_hosts line: ${hostKey.reason}` });
  }
  // The path as written, for ssh_config's jump to this host; none for key text.
  const privateKeyFile = "file" in source && source.file !== undefined ? sshPath(source.file) : undefined;
  return privateKey !== undefined && hostKey.ok
    ? { ...host, privateKey, hostKey: hostKey.value, ...(privateKeyFile !== undefined && { privateKeyFile }) }
    : z.NEVER;
}

// A letter first: an all-digit name would be sorted first among the entries, out of written order.
const hostName = checked((s) =>
  HOST_LABEL.test(s) && s.length <= 20 && /^[a-z]/.test(s)
    ? undefined
    : `"${s}" is not a host entry name: use 1-20 lowercase letters, digits and "-", starting with a letter, not ending with "-"`,
);

function lanSchema(whose: string, addressChange: OnChange) {
  return strictObject({
    interface: interfaceName.meta({ onChange: "in place", description: `The LAN interface of ${whose} (\`ip -br link\` lists them). Example: \`eno1\`.` }),
    subnet: cidr().meta({ onChange: "in place", description: "The LAN's network; it must not overlap the cluster network. Example: `172.17.1.0/24`." }),
    address: ipv4.optional().meta({
      onChange: addressChange,
      description: `The address of ${whose} on the LAN, in \`subnet\`: the other hosts route its VMs' subnet through it, and the \`route\` output names it. Required with several hosts. Example: \`172.17.1.10\`.`,
    }),
  }).meta({ description: `The LAN side of ${whose}: the firewall rules forward traffic between it and the cluster network.` });
}

/** A cluster subnet with its gateway and DHCP range, which default to the first address and the rest. */
function siteAddressShape(key: string, whose: string) {
  const [restarts, replaces]: OnChange[] =
    key === "network"
      ? ["replaces the cluster network, restarts every VM", "replaces the cluster network"]
      : ["replaces this host's network, restarts its VMs", "replaces this host's network"];
  return {
    cidr: cidr({ maxPrefix: 30, why: "a /31 or /32 leaves no address for the gateway and the VMs" }).meta({
      onChange: restarts,
      description:
        key === "network"
          ? "The cluster's subnet, /30 or larger, apart from the LAN; with `hosts`, the range their parts come from. Example: `172.17.2.0/24`."
          : "This host's subnet, /30 or larger, inside `network.cidr` and apart from the other hosts'. Example: `172.17.2.128/25`.",
    }),
    gateway: ipv4.optional().meta({
      onChange: restarts,
      description: `The VM host's address on ${whose} bridge: the VMs' gateway. Leave out for the first address of \`${key}.cidr\`${key === "network" ? " (with `hosts`, set it per host)" : ""}. Example: \`172.17.2.1\`.`,
    }),
    dhcpStart: ipv4.optional().meta({
      onChange: replaces,
      description: `First address of the DHCP range, in \`${key}.cidr\`; the range must not include the gateway and may include the VMs' reserved addresses. Leave out for the address after the gateway. Example: \`172.17.2.2\`.`,
    }),
    dhcpEnd: ipv4.optional().meta({
      onChange: replaces,
      description: `Last address of the DHCP range, not before \`dhcpStart\`. Leave out for the last address before the broadcast address. Example: \`172.17.2.254\`.`,
    }),
  };
}

/** The config sections, each checked on its own (see crossCheck for rules spanning sections). */
export function configSectionsSchema(io: ConfigIo) {
  const vm = strictObject({
    name: hostLabel.meta({
      onChange: "replaces this VM",
      description: "The VM's host name, an RFC 1123 label (lowercase letters, digits, `-`); its libvirt domain is `<cluster>-<name>`. Example: `boreas`.",
    }),
    ip: ipv4.meta({
      onChange: "restarts this VM",
      description: "The VM's address in `network.cidr`, handed out by a DHCP reservation; one per VM, not the gateway. Example: `172.17.2.2`.",
    }),
    host: hostName.optional().meta({
      onChange: "replaces this VM",
      description: "The entry of `hosts` this VM runs on; may be left out when there is one. Not with `host`. Example: `nuc2`.",
    }),
    mac: mac.optional().meta({
      onChange: "replaces this VM",
      description: "The VM's MAC address, locally administered unicast. Leave out for a stable `52:54:00:xx:xx:xx` derived from the cluster and VM names.",
    }),
    memoryMiB: count("MiB")
      .optional()
      .meta({ onChange: "restarts this VM", description: "This VM's memory in MiB, instead of its class's or `defaults.memoryMiB`." }),
    vcpus: count("vCPUs").optional().meta({ onChange: "restarts this VM", description: "This VM's virtual CPUs, instead of its class's or `defaults.vcpus`." }),
    disk: size.optional().meta({ onChange: "in place", description: "This VM's disk size, instead of its class's or `defaults.disk`. Example: `50G`." }),
    class: className.optional().meta({
      onChange: "restarts this VM",
      description: "A size class from `classes`: its sizes apply where the VM sets none of its own (VM, then class, then `defaults`). Example: `worker`.",
    }),
    dataDisks: z
      .array(
        strictObject({
          name: dataDiskName.meta({
            onChange: "replaces that data disk (a new, empty one), hot-plugged",
            description: "The disk's name: the guest sees it as `/dev/disk/by-id/virtio-<name>`; 1-20 lowercase letters, digits and `-`. Example: `ceph`.",
          }),
          size: size.meta({ onChange: "in place", description: "The disk's size, grown in place under the running guest (never shrunk). Example: `10G`." }),
        }),
      )
      .max(MAX_DATA_DISKS, { error: `at most ${MAX_DATA_DISKS} data disks per VM` })
      .default([])
      .meta({
        onChange: "adds or removes only those data disks, hot-plugged",
        description:
          "Raw, unformatted, sparse disks beside the VM's own, in the cluster's pool, for Ceph, Rook or Longhorn: plugged into the running VM when added and out when removed, with no restart; removed with the VM.",
      }),
    running: z.boolean().default(true).meta({
      onChange: "stops or starts this VM",
      description:
        "`false` keeps the VM defined, with its disks, but shut down (gracefully), so a lab fits a small host; `true` starts it again. A VM started or stopped by hand is drift: `pulumi up` puts it back.",
    }),
    cloudConfig: cloudConfig(
      io,
      `Your own cloud-config for this VM's first boot, merged with vm-cluster's and with \`defaults.cloudConfig\` (its commands, packages and users after those; a file path or user name in both is this VM's). ${CLOUD_CONFIG_RULES}`,
    ),
    groups: z.array(groupName).default([]).meta({
      onChange: "nothing on the host",
      description:
        "Ansible groups the VM is in, besides the `<cluster>` group of all VMs: the `inventory` output has a section for each. Example: `[kube_control_plane, etcd]`.",
    }),
  });
  // Sizes a class gives its VMs; each key left out falls back to `defaults`.
  const sizeClass = strictObject({
    memoryMiB: count("MiB").optional().meta({ onChange: "restarts the VMs of this class", description: "Memory in MiB of the class's VMs." }),
    vcpus: count("vCPUs").optional().meta({ onChange: "restarts the VMs of this class", description: "Virtual CPUs of the class's VMs." }),
    disk: size.optional().meta({ onChange: "in place", description: "Disk size of the class's VMs. Example: `50G`." }),
  });
  // Each description says what the key means; the reference's Default column comes from the schema.
  return strictObject({
    cluster: clusterName.meta({
      onChange: "replaces the whole cluster",
      description:
        "The cluster's name: 1-20 lowercase letters and digits, a letter first, no `-`. The names on the VM host derive from it: network `<cluster>`, pool `<cluster>-pool`, domains `<cluster>-<vm>`. Example: `anemoi`.",
    }),
    host: hostEntry(io, {}, "replaces the whole cluster").optional().meta({
      description: "The VM host and how to reach it: this machine or a remote one over SSH. Leave out for this machine; for several hosts use `hosts` instead.",
    }),
    hosts: z
      .record(
        hostName,
        hostEntry(
          io,
          {
            lan: lanSchema("this host", "in place"),
            network: strictObject(siteAddressShape("hosts.<name>.network", "this host's")).optional().meta({
              description:
                "This host's part of the cluster network. Leave out for its share of `network.cidr` by its place in `hosts`: the first quarter for the first host, the second for the second, and so on (eighths from five hosts on, sixteenths from nine). Set it to keep a host's subnet when a host before it is removed, or when the number of hosts goes past four or back (or past eight).",
            }),
          },
          "replaces everything on this host",
        ),
      )
      .optional()
      .meta({
        onChange: "adds or removes only those hosts and their VMs",
        description:
          "Several VM hosts for one cluster, by name (instead of `host` and `lan`): each has its own checks, packages, pool, base image and part of the cluster network, and routes the other hosts' parts over the LAN without NAT. Each entry is a `host` object with `lan` (its `address` set) and optionally `network`. Example: `{ nuc1: { type: local, lan: {...} }, nuc2: { type: ssh, ..., lan: {...} } }`.",
      }),
    lan: lanSchema("the VM host", "nothing on the host").optional().meta({
      description:
        "The VM host's LAN side: the firewall rules forward traffic between it and the cluster network. Required, except with `hosts`, where each has its own.",
    }),
    network: strictObject({
      ...siteAddressShape("network", "the cluster's"),
      bridge: interfaceName.optional().meta({
        onChange: "replaces the cluster network",
        description:
          "The Linux bridge libvirt creates for the network, at most 15 characters, not `lan.interface`. Leave out for `vmc-<cluster>` (shortened with a hash when longer than 15). Example: `kvmbr0`.",
      }),
      domain: checked((s) =>
        DNS_DOMAIN.test(s) ? undefined : `"${s}" is not a DNS domain: use lowercase labels of letters, digits and "-" joined by ".", like lab.internal`,
      )
        .optional()
        .meta({
          onChange: "replaces the cluster network",
          description:
            "The VMs' DNS domain: the network's DNS answers `<vm>` and `<vm>.<domain>` for every VM, and that is each VM's `hostname -f`; names in it never leave the host. Leave out for `<cluster>.internal`. Example: `lab.internal`.",
        }),
    }).meta({ description: "The cluster's own NAT network, a libvirt network named after the cluster." }),
    vms: z.array(vm).min(1, { error: "list at least one VM ({ name, ip })" }).meta({
      onChange: "adds or removes only those VMs",
      description: "The VMs, at least one: each boots the base image with its own host name, address and root's SSH key.",
    }),
    defaults: strictObject({
      // The prefault goes through `size` like a configured value: the same bytes, documented as written.
      disk: size.prefault(defaults.DEFAULT_DISK).meta({
        onChange: "in place",
        description:
          "Each VM's disk size: K, M, G, T are 1024-based as qemu-img reads them (`35G` is 35 GiB; `GB` is refused), or a byte count; whole 512-byte sectors. The disk is a copy-on-write overlay of the base image.",
      }),
      memoryMiB: count("MiB").default(defaults.DEFAULT_MEMORY_MIB).meta({ onChange: "restarts every VM", description: "Each VM's memory in MiB." }),
      vcpus: count("vCPUs").default(defaults.DEFAULT_VCPUS).meta({ onChange: "restarts every VM", description: "Each VM's number of virtual CPUs." }),
      cloudConfig: cloudConfig(
        io,
        `Your own cloud-config for every VM's first boot, merged with vm-cluster's (and each VM's \`cloudConfig\`). ${CLOUD_CONFIG_RULES}`,
      ),
    })
      .prefault({})
      .meta({ description: "Sizes of the VMs that set none of their own and whose class sets none, and the cloud-config every VM gets." }),
    classes: z.record(className, sizeClass).default({}).meta({
      onChange: "nothing on the host",
      description:
        "Size classes by name, such as `control` and `worker`: a VM with `class` takes the sizes its class sets. Example: `{ worker: { memoryMiB: 4096, vcpus: 2 } }`.",
    }),
    inventory: strictObject({
      children: z
        .record(groupName, z.array(groupName).min(1, { error: "list at least one group" }))
        .default({})
        .meta({
          onChange: "nothing on the host",
          description:
            "Ansible groups made of other groups (`[<group>:children]`), by name: each lists VM groups (`vms[].groups`) or other such groups, as kubespray's `k8s_cluster: [kube_control_plane, kube_node]`.",
        }),
    })
      .prefault({})
      .meta({ description: "The Ansible inventory outputs beyond the VMs' own groups." }),
    sshPublicKey: strictObject({
      file: z.string().optional().meta({
        onChange: "in place",
        description:
          "Path of the public key file on the machine that runs Pulumi (`~/` is expanded). When it ends in `.pub`, the `sshConfig`, `inventory` and each VM's `ssh` output name the private key beside it (the same path without `.pub`, made absolute when relative; not for a path with quotes, backslashes, `%` or `$`). Example: `~/.ssh/id_ed25519.pub`.",
      }),
      key: z.string().optional().meta({ onChange: "in place", description: "The public key line itself. Example: `ssh-ed25519 AAAAC3Nza... me@laptop`." }),
    })
      .superRefine(exactlyOne("file", "key", "the public key authorized for root in the VMs"))
      .transform((spec, ctx) => {
        const source = spec.file !== undefined ? { file: spec.file } : { text: spec.key ?? "" };
        const line = load(io, ctx, spec.file !== undefined ? "file" : "key", source, "an SSH public key", parsePublicKey)?.line;
        if (line === undefined) return z.NEVER;
        return { line, ...(spec.file !== undefined && { identityFile: identityFileOf(spec.file) }) };
      })
      .meta({ description: "The SSH public key authorized for root in every VM: set exactly one of `file` and `key`." }),
    caCertificate: strictObject({
      file: z
        .string()
        .optional()
        .meta({ onChange: "in place", description: "Path of a PEM file on the machine that runs Pulumi (`~/` is expanded). Example: `~/ca.crt`." }),
      pem: z.string().optional().meta({ onChange: "in place", description: "The PEM text itself: one or more `-----BEGIN CERTIFICATE-----` blocks." }),
    })
      .superRefine(exactlyOne("file", "pem", "the CA certificate"))
      .transform((spec, ctx) => {
        const source = spec.file !== undefined ? { file: spec.file } : { text: spec.pem ?? "" };
        return load(io, ctx, spec.file !== undefined ? "file" : "pem", source, "a PEM certificate", parseCertificatePem) ?? z.NEVER;
      })
      .optional()
      .meta({
        onChange: "in place",
        description: "A CA certificate (or bundle) every VM trusts, e.g. your domain's CA: set exactly one of `file` and `pem`. Leave out for none.",
      }),
    image: strictObject({
      url: url("image").meta({
        onChange: "replaces every VM",
        description: "URL of a qcow2 cloud image with cloud-init: `https://`, `http://`, or `file://` for a file on the VM host.",
      }),
      sha512: checked((s) => (/^[0-9a-fA-F]{128}$/.test(s) ? undefined : "is not a SHA-512 digest (128 hex digits)"))
        .optional()
        .meta({ onChange: "replaces every VM", description: "The image's SHA-512 digest, 128 hex digits." }),
      checksumsUrl: url("SHA512SUMS file")
        .optional()
        .meta({ onChange: "replaces every VM", description: "URL of a `SHA512SUMS` file that lists the image under the last segment of `url`." }),
    })
      .superRefine(exactlyOne("sha512", "checksumsUrl", "how to verify the download"))
      .prefault(defaults.DEFAULT_IMAGE)
      .meta({
        description:
          "The base image of every VM, downloaded and checked on the VM host: set `url` and exactly one of `sha512` and `checksumsUrl`. The default is Debian 12 genericcloud amd64.",
      }),
    poolDir: poolDir.optional().meta({
      onChange: "replaces every VM",
      description:
        "Directory of the cluster's storage pool on the VM host: a new one (`pulumi up` makes it, destroy removes it) or an existing empty one (its owner and mode stay, destroy leaves it). Never a system directory, a home directory itself or a hidden folder. Leave out for `/var/lib/libvirt/images/<cluster>`.",
    }),
    domainType: z.enum(["kvm", "qemu"]).default(defaults.DEFAULT_DOMAIN_TYPE).meta({
      onChange: "recreates every VM's domain (disks kept)",
      description: "`kvm`: hardware virtualization (needs VT-x/AMD-V and `/dev/kvm`); `qemu`: software emulation, much slower, for hosts without KVM.",
    }),
    readinessTimeoutSeconds: count("seconds").default(defaults.DEFAULT_READINESS_TIMEOUT_SECONDS).meta({
      onChange: "nothing on the host",
      description: "How long `pulumi up` waits for each VM's DHCP lease, SSH and the end of cloud-init, in seconds.",
    }),
    consolePassword: flag.default(false).meta({
      onChange: "in place",
      description:
        "Give root a generated password for the serial console (each VM's `console` command in the `vms` output), one for the whole cluster: `pulumi stack output consolePassword --show-secrets`. SSH password login stays off.",
    }),
    disableCloudInitAfterBoot: flag.default(false).meta({
      onChange: "in place",
      description: "Switch cloud-init off in each VM at the end of its first boot (`/etc/cloud/cloud-init.disabled`), so later boots skip it.",
    }),
  });
}

/** Sections as parsed: files read, sizes in bytes, defaults of each section applied. */
export type ClusterConfig = z.output<ReturnType<typeof configSectionsSchema>>;
