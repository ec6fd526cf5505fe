// What a benchmark run measures: the shape of latest.json, which bench.ts writes and report.ts renders.
import type { byType, PathSegment, Timeline } from "./events";
import type { FloorResult } from "./floor";

export interface Settings {
  sizes: number[];
  repeats: number;
  floorPollMs: number;
  domainType: "kvm" | "qemu";
}
export interface Machine {
  cores: number;
  cpuModel: string;
  memoryMiB: number;
  kvm: { devKvm: boolean; cpuFlag: boolean; usable: boolean };
  kernel: string;
  node: string;
  pulumi: string;
  libvirt: string;
  qemu: string;
  loadAverageStart: number[];
  loadAverageEnd?: number[];
  /** Running domains not ours when the run started: other people's guests compete for the cores. */
  otherRunningDomainsStart: number;
  otherRunningDomainsEnd?: number;
}
export interface CommandRun {
  label: string;
  code: number;
  wallMs: number;
  timeline: Timeline;
  /** Other people's running VMs at the command's start and end: they compete for the cores. */
  otherVms: [number, number];
}
export interface VmDisk {
  vm: string;
  overlayBytes: number;
  overlayActualBytes: number;
  seedBytes: number;
}
export interface ClusterDisk {
  perVm: VmDisk[];
  /** The base image copy in the cluster's pool. */
  baseBytes: number;
  baseVirtualBytes: number;
  /** du -sB1 of the pool folder: base + overlays + seeds. */
  poolBytes: number;
}
export interface UpResult {
  n: number;
  stack: string;
  cluster: string;
  imageCacheWarm: boolean;
  loadAverage: number[];
  up: CommandRun;
  /** Update run only: time with no resource step in flight (engine and program alone). */
  updateIdleMs: number;
  criticalPath: PathSegment[];
  byType: ReturnType<typeof byType>;
  disk: ClusterDisk;
  destroy?: CommandRun;
  leftovers?: string[];
}
export type FloorRun = FloorResult & { otherVms: [number, number] };
/** Repeated runs of the commands that change nothing: `up --yes`, `preview` and `refresh --yes`. */
export interface RepeatedRuns {
  upRuns: CommandRun[];
  previewRuns: CommandRun[];
  refreshRuns: CommandRun[];
  upMedianMs: number;
  previewMedianMs: number;
  refreshMedianMs: number;
}
export interface NoopResult extends RepeatedRuns {
  n: number;
}
export interface EmptyResult extends RepeatedRuns {
  firstUp: CommandRun;
}
export interface OwnCost {
  what: string;
  ms: number;
}
export interface Results {
  schema: 2;
  startedAt: string;
  finishedAt: string;
  complete: boolean;
  error?: string;
  machine: Machine;
  settings: Settings & { memoryMiB: number; vcpus: number; disk: string; caCertificate: boolean; productReadinessPollMs: number; netns: string };
  image: { bytes: number; virtualBytes: number; sha512: string; cachedOnHost: string };
  /** One floor per cluster size, in the order of `sizes`. */
  floors: FloorRun[];
  /** The first `pulumi preview` of the fresh project copy: the language host compiles the program first. */
  coldPreview?: CommandRun;
  empty?: EmptyResult;
  ups: UpResult[];
  noop?: NoopResult;
  ratios: {
    /** Each N's up over the floor of the same N. */
    upOverFloor: Record<string, number>;
    noopUpOverEmptyUp?: number;
    previewOverEmptyPreview?: number;
    refreshOverEmptyRefresh?: number;
  };
  /** Ours, not the guests': the critical path of each up without the guest's boot, largest first. */
  ownCosts: Record<string, OwnCost[]>;
  notes: string[];
}
