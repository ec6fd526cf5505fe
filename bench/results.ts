// What a benchmark run measures: the shape of latest.json, which bench.ts writes and report.ts renders.
import type { byType, PathSegment, Timeline } from "./events";
import type { FloorResult } from "./floor";
import type { SetupResult } from "./setup-run";

export interface Settings {
  sizes: number[];
  repeats: number;
  /** Whether the run measures set-up (a fresh copy with empty caches, then again). */
  setup: boolean;
  /** Floor/up pairs of the largest size (one for the others): on 2 cores its boots vary by ±10 % from run to run. */
  pairs: number;
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
  /** Which floor/up pair of this size, from 1. */
  pair: number;
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
export type FloorRun = FloorResult & { otherVms: [number, number]; pair: number };
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
  schema: 3;
  startedAt: string;
  finishedAt: string;
  complete: boolean;
  error?: string;
  machine: Machine;
  settings: Settings & { memoryMiB: number; vcpus: number; disk: string; caCertificate: boolean; productReadinessPollMs: number; netns: string };
  image: { bytes: number; virtualBytes: number; sha512: string; cachedOnHost: string };
  /** The floors in the order run: one per cluster size, `pairs` of the largest. */
  floors: FloorRun[];
  /** tools/setup.sh in a fresh copy, cold then warm, or why it failed. */
  setup?: SetupResult | { error: string };
  /** The first `pulumi preview` of the fresh project copy: the language host compiles the program first. */
  coldPreview?: CommandRun;
  empty?: EmptyResult;
  ups: UpResult[];
  noop?: NoopResult;
  ratios: {
    /** Each N's up over the floor of the same N: the median over its pairs. */
    upOverFloor: Record<string, number>;
    /** Each pair's up over its own floor, in the order run. */
    upOverFloorPairs: Record<string, number[]>;
    noopUpOverEmptyUp?: number;
    previewOverEmptyPreview?: number;
    refreshOverEmptyRefresh?: number;
  };
  /** Ours, not the guests': the critical path of each up without the guest's boot, largest first. */
  ownCosts: Record<string, OwnCost[]>;
  notes: string[];
}

/** The floor run in the same pair as up `u`. */
export function floorOf(r: Pick<Results, "floors">, u: UpResult): FloorRun | undefined {
  return r.floors.find((f) => f.n === u.n && f.pair === u.pair);
}

/**
 * One up per size, in the order run: the only one, or of several pairs the one whose ratio to its
 * floor is nearest the median (what the tables and the picture show in detail).
 */
export function shownUps(r: Pick<Results, "ups" | "floors" | "ratios">): UpResult[] {
  const off = (u: UpResult) => Math.abs(u.up.wallMs / (floorOf(r, u)?.totalMs ?? NaN) - (r.ratios.upOverFloor[String(u.n)] ?? NaN));
  const shown = new Map<number, UpResult>();
  for (const u of r.ups) {
    const best = shown.get(u.n);
    // A pair without a floor (a failed run) is shown only when there is no other.
    if (best === undefined || off(u) < off(best) || (Number.isNaN(off(best)) && !Number.isNaN(off(u)))) shown.set(u.n, u);
  }
  return [...shown.values()];
}
