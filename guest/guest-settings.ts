// What cloud-init set up at a VM's first boot and a stack's config may change later, kept true in
// the running guest over SSH: its FQDN, root's authorized keys, the trusted CA certificates, root's console
// password, whether cloud-init runs at later boots, and the root file system's size once its disk
// grew. cloud-init reads its seed at first boot only, so without this a changed key or CA would
// reach only VMs made after the change. Create only records (the first boot applied the same
// values), unless the disk predates that record (a stack from an older vm-cluster, whose guests may
// lag behind the config): then create applies every setting once. Update applies what changed, in
// one SSH session; while the VM is kept shut down, when it runs again.
import * as pulumi from "../provider/pulumi";
import { etcHosts } from "../cloudinit/user-data";
import { CA_DIR, CLOUD_INIT_DISABLED_FILE, ETC_HOSTS } from "../model/guest-paths";
import { shellQuote } from "../transport/command";
import { withClearErrors } from "../provider/clear-errors";
import { isUnknown } from "../provider/unknown";
import { withGuest, type GuestAccess } from "./guest-ssh";
import type { InputsOf } from "../provider/args";
import { DynamicResource } from "../provider/dynamic-resource";

export interface GuestFile {
  path: string;
  content: string;
}

export interface GuestSettingsInputs extends GuestAccess {
  /** The VM's name, for messages. */
  vm: string;
  /** The VM's readiness: settings are applied to a guest that is up (again, after a restart). */
  ready: string;
  /** The network the guest is reached on: when the same up makes it anew, settings wait for that. */
  network: string;
  /** `<vm>.<network domain>`, in /etc/hosts for `hostname -f`. */
  fqdn: string;
  /** The data disks' names: once one is plugged in, the update waits until the guest shows it by id. */
  dataDisks?: string[];
  /** OpenSSH public key lines, the whole of root's authorized_keys. */
  rootAuthorizedKeys: string[];
  /** The CA certificate files under the CA directory; none for no CA. */
  caFiles: GuestFile[];
  /** crypt(3) hash of root's console password; empty: root's password is locked. A secret. */
  consolePasswordHash: string;
  disableCloudInitAfterBoot: boolean;
  /** The disk's size: when it grew, the root partition and file system grow to fill it. */
  diskBytes: number;
  /** When the disk was made; none for a disk from an older vm-cluster, whose guest may lag behind. */
  diskCreatedAt?: string;
  /** False while the VM is kept shut down: changes wait in state, applied when it runs again. */
  running?: boolean;
}

export type GuestSettingsArgs = InputsOf<GuestSettingsInputs>;

const q = (word: string) => shellQuote([word]);
const ANY_EXIT = Array.from({ length: 256 }, (_, code) => code);
/** How long an update tries to reach the guest. */
const REACH_SECONDS = 60;
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Grows the partition holding / and its file system to the disk's new size. The guest's kernel
 * learns the new size from virtio a moment after the host resized the disk, so it is waited for.
 */
export function growRootScript(diskBytes: number): string {
  return [
    `want=${diskBytes}`,
    // -v: a btrfs subvolume's source without its [/subvol] suffix.
    "src=$(findmnt -nvo SOURCE /)",
    'dev=$(basename "$(readlink -f "$src")")',
    'if [ -e "/sys/class/block/$dev/dm" ]; then echo "vm-cluster: the root file system is on device-mapper ($src); grow it by hand (pvresize, lvextend)" >&2; exit 1; fi',
    'if [ -e "/sys/class/block/$dev/partition" ]; then disk=$(basename "$(readlink -f "/sys/class/block/$dev/..")"); else disk=$dev; fi',
    "i=0",
    'while [ $(( $(cat "/sys/class/block/$disk/size") * 512 )) -lt "$want" ]; do',
    "  i=$((i + 1))",
    '  if [ $i -gt 50 ]; then echo "vm-cluster: /dev/$disk shows $(( $(cat "/sys/class/block/$disk/size") * 512 )) bytes after 10 s, not $want" >&2; exit 1; fi',
    "  sleep 0.2",
    "done",
    // growpart exits 1 when there is nothing to grow (NOCHANGE): a retried update.
    'if [ "$disk" != "$dev" ]; then growpart "/dev/$disk" "$(cat "/sys/class/block/$dev/partition")" >/dev/null || [ $? -eq 1 ]; fi',
    "case $(findmnt -no FSTYPE /) in",
    '  ext2|ext3|ext4) resize2fs "$src" >/dev/null ;;',
    "  xfs) xfs_growfs / >/dev/null ;;",
    "  btrfs) btrfs filesystem resize max / >/dev/null ;;",
    '  *) echo "vm-cluster: cannot grow a $(findmnt -no FSTYPE /) root file system; grow it by hand" >&2; exit 1 ;;',
    "esac",
  ].join("\n");
}

/** Waits (10 s at most) until udev in the guest shows each hot-plugged disk as /dev/disk/by-id/virtio-<name>. */
export function waitForDisksScript(names: readonly string[]): string {
  return [
    `for disk in ${names.map(q).join(" ")}; do`,
    "  i=0",
    '  while [ ! -e "/dev/disk/by-id/virtio-$disk" ]; do',
    "    i=$((i + 1))",
    '    if [ $i -gt 50 ]; then echo "vm-cluster: data disk $disk is not in the guest as /dev/disk/by-id/virtio-$disk after 10 s" >&2; exit 1; fi',
    "    sleep 0.2",
    "  done",
    "done",
  ].join("\n");
}

/** The shell script that brings a guest from `olds` to `news`; empty when nothing changed. */
export function settingsScript(olds: Partial<GuestSettingsInputs>, news: GuestSettingsInputs): string {
  const steps: string[] = [];
  if (olds.fqdn !== news.fqdn)
    steps.push(`printf '%s' ${q(etcHosts(news.vm, news.fqdn))} > ${q(`${ETC_HOSTS}.vm-cluster`)} && mv -f ${q(`${ETC_HOSTS}.vm-cluster`)} ${q(ETC_HOSTS)}`);
  if (!same(olds.rootAuthorizedKeys, news.rootAuthorizedKeys)) {
    // Written aside and moved in: a half-written file would lock everyone out.
    steps.push(
      `(umask 077 && mkdir -p /root/.ssh && printf '%s\\n' ${news.rootAuthorizedKeys.map(q).join(" ")} > /root/.ssh/authorized_keys.vm-cluster && mv -f /root/.ssh/authorized_keys.vm-cluster /root/.ssh/authorized_keys)`,
    );
  }
  if (!same(olds.caFiles, news.caFiles)) {
    steps.push(`mkdir -p ${q(CA_DIR)}`, `rm -f ${q(CA_DIR)}/*.crt`);
    for (const file of news.caFiles) steps.push(`printf '%s' ${q(file.content)} > ${q(file.path)}`);
    steps.push("update-ca-certificates >/dev/null");
  }
  if (olds.consolePasswordHash !== news.consolePasswordHash) {
    // "!": locked with no password at all, as cloud-init leaves it without one.
    steps.push(`usermod -p ${q(news.consolePasswordHash || "!")} root`);
  }
  if (olds.disableCloudInitAfterBoot !== news.disableCloudInitAfterBoot) {
    steps.push(news.disableCloudInitAfterBoot ? `touch ${q(CLOUD_INIT_DISABLED_FILE)}` : `rm -f ${q(CLOUD_INIT_DISABLED_FILE)}`);
  }
  if (olds.diskBytes !== undefined && news.diskBytes > olds.diskBytes) steps.push(growRootScript(news.diskBytes));
  const added = (news.dataDisks ?? []).filter((disk) => !(olds.dataDisks ?? []).includes(disk));
  if (added.length > 0) steps.push(waitForDisksScript(added));
  return steps.length === 0 ? "" : ["set -e", ...steps].join("\n");
}

/** The settings a script compares; in preview some may not be known yet. */
const SETTINGS = ["fqdn", "dataDisks", "rootAuthorizedKeys", "caFiles", "consolePasswordHash", "disableCloudInitAfterBoot", "diskBytes"] as const;

/** Runs `script` in the guest, reaching it with the first of `logins` that works (old keys before new ones). */
async function applyInGuest(vm: string, ip: string, logins: GuestAccess[], script: string): Promise<void> {
  // SSH failing to connect (255) is tried again for a while: a network made anew in the same up
  // takes a few seconds to carry the VMs' traffic once they are plugged into it.
  const until = Date.now() + REACH_SECONDS * 1000;
  for (let i = 0; ; i++) {
    // The script on standard input: it may hold the password hash, which argv would show in `ps`.
    const r = await withGuest(logins[i % logins.length]!, (run) => run(["sh", "-s"], { input: script, okCodes: ANY_EXIT }));
    if (r.code === 0) return;
    if (r.code !== 255)
      throw new Error(`applying the settings of VM ${vm} failed in the guest (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim() || "no error output"}`);
    if (Date.now() > until)
      throw new Error(`cannot reach VM ${vm} over SSH (root@${ip}) within ${REACH_SECONDS} s to apply its settings: ${r.stderr.trim() || "no answer"}`);
    if ((i + 1) % logins.length === 0) await new Promise((done) => setTimeout(done, 2000));
  }
}

export const guestSettingsProvider: pulumi.dynamic.ResourceProvider<GuestSettingsInputs, GuestSettingsInputs> = withClearErrors<
  GuestSettingsInputs,
  GuestSettingsInputs
>("guest settings", {
  async create(inputs) {
    // A disk from an older vm-cluster: its guest was set up by another config, perhaps; apply all once.
    if (inputs.diskCreatedAt === undefined && inputs.running !== false)
      await applyInGuest(inputs.vm, inputs.ip, [inputs], settingsScript({ diskBytes: 0 }, inputs));
    return { id: inputs.vm, outs: inputs };
  },

  async diff(_id, olds, news) {
    // A stopped VM: state records that, and keeps the settings its guest has, so its start applies what changed meanwhile.
    if (news.running === false) return { changes: olds.running !== false };
    if (olds.running === false) return { changes: true };
    if (SETTINGS.some((k) => isUnknown(news[k]))) return { changes: true };
    // A data disk gone changes nothing in the guest, yet state must forget it (so a later one of that name is waited for).
    return { changes: settingsScript(olds, news) !== "" || !same(olds.dataDisks ?? [], news.dataDisks ?? []) };
  },

  async update(_id, olds, news) {
    if (news.running === false) return { outs: { ...olds, running: false } };
    const script = settingsScript(olds, news);
    if (script === "") return { outs: news };
    // The guest accepts the old provisioner key and shows the old host key until it is changed (a
    // replaced key pair); a VM made anew at the same time knows only the new ones.
    const old = { ...news, provisionerPrivateKey: olds.provisionerPrivateKey, hostPublicKey: olds.hostPublicKey };
    const keysKept = old.provisionerPrivateKey === news.provisionerPrivateKey && old.hostPublicKey === news.hostPublicKey;
    await applyInGuest(news.vm, news.ip, keysKept ? [news] : [old, news], script);
    return { outs: news };
  },
});

/** The VM's settings as configured; an update applies a change in the running guest. */
export class GuestSettings extends DynamicResource {
  constructor(name: string, args: GuestSettingsArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      guestSettingsProvider,
      name,
      args,
      { ...opts, additionalSecretOutputs: ["provisionerPrivateKey", "consolePasswordHash"] },
      "vm-cluster",
      "GuestSettings",
    );
  }
}
