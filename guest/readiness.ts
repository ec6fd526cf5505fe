// Up returns only when a VM is usable: its DHCP lease, then SSH with the stack's provisioner key
// and the VM's known host key (strict checking, no trust on first use), then cloud-init done.
// Every wait is bounded; on timeout the error names the VM, what was awaited, and shows the
// tail of its serial console log.
import * as pulumi from "../provider/pulumi";
import { connect, isCommandError } from "../transport/connection";
import { virsh, type LibvirtTarget } from "../libvirt/virsh";
import { withGuest } from "./guest-ssh";
import { withClearErrors } from "../provider/clear-errors";
import type { InputsOf } from "../provider/args";
import { isUnknown } from "../provider/unknown";
import { DynamicResource } from "../provider/dynamic-resource";

export interface ReadinessInputs {
  target: LibvirtTarget;
  /** The VM's name, for messages. */
  vm: string;
  domain: string;
  /** The domain's last start by its provider: a restart or a new domain is waited for again. */
  domainStartedAt: string;
  /** The domain's id and its `restart`: in preview they tell whether a domain being changed restarts. */
  domainId: string;
  domainRestart: string;
  /** False for a VM kept shut down: nothing to wait for until it runs again. */
  running: boolean;
  network: string;
  mac: string;
  ip: string;
  consoleLog: string;
  /** The VM's ed25519 host public key line. */
  hostPublicKey: string;
  /** Authorized for root in the guest; a secret. */
  provisionerPrivateKey: string;
  timeoutSeconds: number;
}

export type ReadinessArgs = InputsOf<ReadinessInputs>;

/** How often the lease and SSH are tried: a VM is seen ready within this of it being so (each try is one virsh or ssh run). */
export const POLL_MS = 250;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The lease for `mac` in `virsh net-dhcp-leases` output, if any. */
export function leasedIp(leases: string, mac: string): string | undefined {
  for (const line of leases.split("\n")) {
    const words = line.trim().split(/\s+/);
    const at = words.findIndex((w) => w.toLowerCase() === mac.toLowerCase());
    if (at >= 0) return words.find((w) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(w))?.split("/")[0];
  }
  return undefined;
}

/**
 * The last lease read of each network, shared by the VMs waiting on it: one `virsh net-dhcp-leases`
 * per network and poll, not one per VM (each costs the host a process and a libvirt call while the
 * guests need the cores). A plain object, not a Map: the provider's closure is serialized with it.
 */
const leaseReads: Record<string, { at: number; leases: Promise<string> }> = {};

/** The network's leases, read at most POLL_MS ago. */
export function networkLeases(t: LibvirtTarget, network: string, now: number = Date.now()): Promise<string> {
  const key = JSON.stringify([t.connection, t.uri ?? "", network]);
  const last = leaseReads[key];
  if (last !== undefined && now - last.at < POLL_MS) return last.leases;
  const leases = virsh(t, ["net-dhcp-leases", network]).then((r) => r.stdout);
  leaseReads[key] = { at: now, leases };
  // A failed read is not shared: the next poll asks again.
  leases.catch(() => {
    if (leaseReads[key]?.leases === leases) delete leaseReads[key];
  });
  return leases;
}

async function consoleTail(i: ReadinessInputs): Promise<string> {
  const r = await connect(i.target.connection).run(["tail", "-n", "25", i.consoleLog], { okCodes: [0, 1] });
  return r.stdout.trim() || `(the console log ${i.consoleLog} is empty or unreadable)`;
}

async function waitReady(i: ReadinessInputs): Promise<void> {
  const deadline = Date.now() + i.timeoutSeconds * 1000;
  const timedOut = async (what: string) =>
    new Error(
      `VM ${i.vm} (domain ${i.domain}) was not ready within ${i.timeoutSeconds} s: ${what}.\nLast lines of its serial console:\n${await consoleTail(i)}`,
    );

  let ip: string | undefined;
  while (ip === undefined) {
    ip = leasedIp(await networkLeases(i.target, i.network), i.mac);
    if (ip !== undefined) break;
    if (Date.now() > deadline) throw await timedOut(`no DHCP lease for ${i.mac} on network ${i.network}`);
    await sleep(POLL_MS);
  }
  if (ip !== i.ip) throw new Error(`VM ${i.vm} got ${ip} from DHCP instead of its reservation ${i.ip}: another lease holds that address`);

  let last = "";
  await withGuest(i, async (run) => {
    for (;;) {
      // Bounded by what is left of the deadline: a guest that hangs mid-boot is not waited for past it.
      const left = Math.max(Math.ceil((deadline - Date.now()) / 1000), 5);
      const r = await run(["cloud-init", "status", "--wait"], { okCodes: [0, 1, 2, 255], timeoutSeconds: left }).catch(async (err: unknown) => {
        if (isCommandError(err) && err.timedOut) throw await timedOut(`cloud-init had not finished (\`cloud-init status --wait\` over SSH to root@${i.ip})`);
        throw err;
      });
      if (r.code === 0) return;
      // 255: ssh itself could not connect yet; 1/2: cloud-init reports an error (recoverable or not).
      if (r.code !== 255) throw new Error(`cloud-init on VM ${i.vm} finished with errors:\n${r.stdout}${r.stderr}\nConsole:\n${await consoleTail(i)}`);
      last = r.stderr.trim();
      if (Date.now() > deadline) throw await timedOut(`SSH to root@${i.ip} did not succeed (last: ${last || "no answer"})`);
      await sleep(POLL_MS);
    }
  });
}

export const readinessProvider: pulumi.dynamic.ResourceProvider<ReadinessInputs, ReadinessInputs> = withClearErrors<ReadinessInputs, ReadinessInputs>(
  "readiness",
  {
    async create(inputs) {
      if (inputs.running !== false) await waitReady(inputs);
      return { id: inputs.domain, outs: inputs };
    },
    async diff(_id, olds, news) {
      const replaces = waitAgainFor(olds, news);
      return { changes: replaces.length > 0, replaces };
    },
  },
);

/**
 * Why the VM must be waited for again: a new or restarted domain, a new address or host key. In
 * preview a domain being changed has no start time yet; it restarts when it is made anew (its id
 * not known yet) or its check says so. `up` asks again with the start time known.
 */
export function waitAgainFor(olds: ReadinessInputs, news: ReadinessInputs): string[] {
  const replaces: string[] = (["domain", "ip", "mac", "hostPublicKey"] as const).filter((k) => olds[k] !== news[k]);
  // State from before the key existed: the VM ran.
  if ((olds.running ?? true) !== news.running) replaces.push("running");
  const startKnown = news.domainStartedAt !== undefined && !isUnknown(news.domainStartedAt);
  const restarts = startKnown ? olds.domainStartedAt !== news.domainStartedAt : isUnknown(news.domainId) || news.domainRestart !== "";
  if (restarts) replaces.push("domainStartedAt");
  return replaces;
}

/** Exists once its VM answered SSH and cloud-init finished; depend on it to use the VM. */
export class Readiness extends DynamicResource {
  constructor(name: string, args: ReadinessArgs, opts?: pulumi.CustomResourceOptions) {
    super(readinessProvider, name, args, { ...opts, additionalSecretOutputs: ["provisionerPrivateKey"] }, "vm-cluster", "Readiness");
  }
}
