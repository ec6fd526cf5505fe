// Can this host run the guests? The seed's lscpu check (VT-x / AMD-V) plus a usable /dev/kvm.
// It changes nothing on the host, so everything else depends on it and runs only after it passed.
import { deleteFirst } from "../provider/delete-first";
import * as pulumi from "../provider/pulumi";
import { connect, type ConnectionSpec, type HostConnection } from "../transport/connection";
import { hostDiff, hostIdentity } from "./host-diff";
import { showWarnings } from "./warnings";
import { withClearErrors } from "../provider/clear-errors";
import { DynamicResource } from "../provider/dynamic-resource";

/** libvirt's domain type: `kvm` (hardware virtualization) or `qemu` (software emulation, slow). */
export type DomainType = "kvm" | "qemu";

export const DEFAULT_KVM_DEVICE = "/dev/kvm";

/** From `LC_ALL=C lscpu`: the "Virtualization:" line the seed reads, else the vmx / svm CPU flags. */
export function cpuVirtualization(lscpu: string): "VT-x" | "AMD-V" | undefined {
  const fields = new Map<string, string>();
  for (const line of lscpu.split("\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) fields.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  const named = fields.get("Virtualization");
  if (named === "VT-x" || named === "AMD-V") return named;
  const flags = (fields.get("Flags") ?? "").split(/\s+/);
  if (flags.includes("vmx")) return "VT-x";
  if (flags.includes("svm")) return "AMD-V";
  return undefined;
}

/** The device as `stat -L -c '%F|%G|%a'` prints it; undefined when it does not exist. */
export interface DeviceStat {
  kind: string;
  group: string;
  /** Permission bits, octal text as stat prints them ("660"). */
  mode: string;
}

export function parseDeviceStat(out: string): DeviceStat {
  const [kind = "", group = "", mode = ""] = out.trim().split("|");
  return { kind, group, mode };
}

/** What makes the device unusable for libvirt's QEMU processes (group kvm on Debian, 0666 elsewhere). */
export function kvmDeviceProblem(path: string, dev: DeviceStat | undefined): string | undefined {
  if (!dev) return `${path} does not exist: load KVM (\`modprobe kvm_intel\` or \`modprobe kvm_amd\`) on a CPU with VT-x / AMD-V`;
  if (dev.kind !== "character special file")
    return `${path} is a ${dev.kind}, not the KVM character device: remove it and load KVM (\`modprobe kvm_intel\` or \`modprobe kvm_amd\`)`;
  const mode = parseInt(dev.mode, 8);
  const worldRw = (mode & 0o006) === 0o006;
  const kvmGroupRw = dev.group === "kvm" && (mode & 0o060) === 0o060;
  if (worldRw || kvmGroupRw) return undefined;
  return `${path} (group ${dev.group}, mode ${dev.mode}) is not usable by libvirt's QEMU processes: \`chgrp kvm ${path} && chmod 0660 ${path}\` (what udev does at boot)`;
}

export function virtualizationProblems(cpu: "VT-x" | "AMD-V" | undefined, deviceProblem: string | undefined): string[] {
  const problems: string[] = [];
  if (!cpu) {
    problems.push(
      "the CPU shows no hardware virtualization (lscpu reports no VT-x / AMD-V, no vmx / svm flag): enable Intel VT-x or AMD-V (SVM) in the firmware setup, or nested virtualization when this host is itself a VM",
    );
  }
  if (deviceProblem) problems.push(deviceProblem);
  return problems;
}

/** KVM guests need no problem at all; emulated guests run anyway, with a warning. */
export function verdict(domainType: DomainType, problems: string[]): { error?: string; warnings: string[] } {
  switch (domainType) {
    case "kvm":
      if (problems.length === 0) return { warnings: [] };
      return {
        error:
          `this host cannot run KVM guests: ${problems.join("; ")}. ` +
          "Or set `domainType: qemu` in the stack config to run the guests under software emulation (much slower).",
        warnings: [],
      };
    case "qemu":
      return {
        warnings: [
          problems.length > 0
            ? `domainType qemu: the guests run under software emulation, much slower than KVM (${problems.join("; ")})`
            : "domainType qemu: the guests run under software emulation although this host has KVM; `domainType: kvm` is much faster",
        ],
      };
    default: {
      const never: never = domainType;
      throw new Error(`unknown domainType ${String(never)}: use kvm or qemu`);
    }
  }
}

export interface VirtualizationCheckInputs {
  connection: ConnectionSpec;
  domainType: DomainType;
  kvmDevice: string;
}

export interface VirtualizationCheckState extends VirtualizationCheckInputs {
  cpuVirtualization: "VT-x" | "AMD-V" | "none";
  kvmUsable: boolean;
  problems: string[];
  warnings: string[];
}

export async function inspectVirtualization(conn: HostConnection, inputs: VirtualizationCheckInputs): Promise<VirtualizationCheckState> {
  const cpu = cpuVirtualization((await conn.run(["lscpu"])).stdout);
  const stat = await conn.run(["stat", "-L", "-c", "%F|%G|%a", "--", inputs.kvmDevice], { okCodes: [0, 1] });
  const deviceProblem = kvmDeviceProblem(inputs.kvmDevice, stat.code === 0 ? parseDeviceStat(stat.stdout) : undefined);
  const problems = virtualizationProblems(cpu, deviceProblem);
  return { ...inputs, cpuVirtualization: cpu ?? "none", kvmUsable: problems.length === 0, problems, warnings: verdict(inputs.domainType, problems).warnings };
}

/** Inspects and fails with what is missing and how to fix it, unless the domain type allows it. */
export async function checkVirtualization(conn: HostConnection, inputs: VirtualizationCheckInputs): Promise<VirtualizationCheckState> {
  const state = await inspectVirtualization(conn, inputs);
  const { error } = verdict(inputs.domainType, state.problems);
  if (error) throw new Error(`${error} (checked on ${conn.description})`);
  return state;
}

export const virtualizationCheckProvider: pulumi.dynamic.ResourceProvider<VirtualizationCheckInputs, VirtualizationCheckState> = withClearErrors<
  VirtualizationCheckInputs,
  VirtualizationCheckState
>("virtualization check", {
  async create(inputs) {
    const outs = await checkVirtualization(connect(inputs.connection), inputs);
    return { id: `virtualization@${hostIdentity(inputs.connection)}`, outs };
  },

  // Never fails: a host that lost KVM shows as drift, and the next up's update reports why.
  async read(id, props) {
    if (!props) return {};
    return { id, props: await inspectVirtualization(connect(props.connection), props) };
  },

  async diff(_id, olds, news) {
    const drift = olds.domainType !== news.domainType || olds.kvmDevice !== news.kvmDevice || (news.domainType === "kvm" && !olds.kvmUsable);
    return hostDiff(olds, news, [], drift);
  },

  async update(_id, _olds, news) {
    return { outs: await checkVirtualization(connect(news.connection), news) };
  },

  // A check changed nothing, so there is nothing to undo.
  async delete() {},
});

export interface VirtualizationCheckArgs {
  connection: pulumi.Input<ConnectionSpec>;
  /** Default `kvm`; `qemu` lets a host without KVM run the guests under software emulation. */
  domainType?: pulumi.Input<DomainType>;
  /** Default `/dev/kvm`. */
  kvmDevice?: pulumi.Input<string>;
}

/** Fails the update, before anything changes on the host, when the host cannot run the guests. */
export class VirtualizationCheck extends DynamicResource {
  declare readonly cpuVirtualization: pulumi.Output<"VT-x" | "AMD-V" | "none">;
  declare readonly kvmUsable: pulumi.Output<boolean>;
  declare readonly problems: pulumi.Output<string[]>;
  declare readonly warnings: pulumi.Output<string[]>;

  constructor(name: string, args: VirtualizationCheckArgs, opts?: pulumi.CustomResourceOptions) {
    const props = {
      connection: args.connection,
      domainType: args.domainType ?? "kvm",
      kvmDevice: args.kvmDevice ?? DEFAULT_KVM_DEVICE,
      cpuVirtualization: undefined,
      kvmUsable: undefined,
      problems: undefined,
      warnings: undefined,
    };
    super(virtualizationCheckProvider, name, props, deleteFirst(opts), "vm-cluster", "VirtualizationCheck");
    showWarnings(this, this.warnings);
  }
}
