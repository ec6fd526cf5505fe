// The engine's own events, as they happen: `--event-log tcp://<addr>` makes the CLI stream every
// engine event to a gRPC Events service (the one the Automation API uses), one stream per engine
// run (`pulumi up --yes` makes two: its preview, then the update). We stamp each event on arrival
// with our clock: the events' own `timestamp` is in whole seconds, too coarse for steps that take
// less than one. From the stamps: each resource step's start (resourcePreEvent) and end
// (resOutputsEvent / resOpFailedEvent), the engine's phases, idle time and an approximate critical path.
import * as grpc from "@grpc/grpc-js";
import { now } from "./sh";

// The stubs ship inside @pulumi/pulumi; load them at run time, as engine/language-host.ts does.
const eventsGrpc = require("@pulumi/pulumi/proto/events_grpc_pb");
const emptyPb = require("google-protobuf/google/protobuf/empty_pb");

interface StepState {
  type?: string;
  urn?: string;
  custom?: boolean;
}
interface StepMetadata {
  op: string;
  urn: string;
  type: string;
  old?: StepState;
  new?: StepState;
}
/** The part of apitype.EngineEvent we read. */
export interface EngineEvent {
  sequence: number;
  timestamp: number;
  preludeEvent?: unknown;
  resourcePreEvent?: { metadata: StepMetadata };
  resOutputsEvent?: { metadata: StepMetadata };
  resOpFailedEvent?: { metadata: StepMetadata };
  diagnosticEvent?: { message: string; severity: string; urn?: string };
  summaryEvent?: { isPreview: boolean; resourceChanges?: Record<string, number>; durationSeconds?: number; result?: string };
  cancelEvent?: unknown;
}

export interface ArrivedEvent {
  /** Our clock (ms) when the event arrived. */
  at: number;
  /** 1, 2, ... per engine run of one CLI command. */
  stream: number;
  event: EngineEvent;
}

/** A gRPC Events server on loopback that hands each event to the current recording. */
export class EventSink {
  private current: ArrivedEvent[] | undefined;
  private streamCount = 0;
  private server!: grpc.Server;
  address = "";

  static async start(): Promise<EventSink> {
    const sink = new EventSink();
    const server = new grpc.Server();
    server.addService(eventsGrpc.EventsService, {
      streamEvents: (call: grpc.ServerReadableStream<{ getEvent(): string }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        const stream = ++sink.streamCount;
        const into = sink.current;
        call.on("data", (req: { getEvent(): string }) => {
          const at = now();
          try {
            into?.push({ at, stream, event: JSON.parse(req.getEvent()) as EngineEvent });
          } catch {
            // a malformed line costs one event, never the run
          }
        });
        call.on("end", () => cb(null, new emptyPb.Empty()));
        call.on("error", () => undefined);
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    sink.server = server;
    sink.address = `tcp://127.0.0.1:${port}`;
    return sink;
  }

  /** Starts collecting; the returned list fills as events arrive. Stream numbers restart at 1. */
  record(): ArrivedEvent[] {
    this.streamCount = 0;
    this.current = [];
    return this.current;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }
}

// ---- analysis: pure functions over one command's events; times are ms from the command's spawn ----

export interface Step {
  name: string;
  /** Short type: Disk, Seed, Readiness, ... (the part after the last ':'). */
  type: string;
  op: string;
  custom: boolean;
  start: number;
  end?: number;
  failed?: boolean;
}

export interface EngineRun {
  stream: number;
  kind: "preview" | "update";
  /** First event (the prelude). */
  start: number;
  /** First resource step (the Stack's): the program is running and registering. */
  firstStep?: number;
  /** First step of a real resource (not the Stack, a component or a default provider). */
  firstCustomStep?: number;
  /**
   * The program's own load: from the Stack's step (the SDK registers it before it loads the
   * program) to the step of the first resource the program registers (requiring the compiled
   * project's modules and running its top level). The SDK's debug log messages would
   * say it more directly, but they can arrive late: the load blocks the program's event loop.
   */
  programLoadMs?: number;
  /** The end of the last step. */
  lastStepEnd?: number;
  /** The summary event. */
  summary?: number;
  end: number;
  changes?: Record<string, number>;
  result?: string;
}

export interface Timeline {
  wallMs: number;
  /** Spawn to the first event of the first engine run. */
  cliStartMs: number;
  /** Last event to process exit (state written, plugins stopped). */
  exitMs: number;
  runs: EngineRun[];
  /** Steps of the last engine run (the update; or the preview of `pulumi preview`). */
  steps: Step[];
}

const shortType = (type: string): string => type.slice(type.lastIndexOf(":") + 1);
const shortName = (urn: string): string => urn.slice(urn.lastIndexOf("::") + 2);

function isCustom(m: StepMetadata): boolean {
  return (m.new?.custom ?? m.old?.custom ?? false) === true;
}

export function timeline(events: ArrivedEvent[], t0: number, t1: number): Timeline {
  const rel = (at: number) => at - t0;
  const byStream = new Map<number, ArrivedEvent[]>();
  for (const e of events) {
    const list = byStream.get(e.stream) ?? [];
    list.push(e);
    byStream.set(e.stream, list);
  }
  const runs: EngineRun[] = [];
  let lastSteps: Step[] = [];
  for (const [stream, list] of [...byStream.entries()].sort((a, b) => a[0] - b[0])) {
    list.sort((a, b) => a.event.sequence - b.event.sequence);
    const steps = new Map<string, Step>();
    let summary: ArrivedEvent | undefined;
    for (const e of list) {
      const pre = e.event.resourcePreEvent?.metadata;
      if (pre) {
        steps.set(pre.urn, { name: shortName(pre.urn), type: shortType(pre.type), op: pre.op, custom: isCustom(pre), start: rel(e.at) });
        continue;
      }
      const done = e.event.resOutputsEvent?.metadata ?? e.event.resOpFailedEvent?.metadata;
      if (done) {
        const step = steps.get(done.urn);
        if (step) {
          step.end = rel(e.at);
          if (e.event.resOpFailedEvent) step.failed = true;
        }
        continue;
      }
      if (e.event.summaryEvent) summary = e;
    }
    const all = [...steps.values()];
    const customs = all.filter((s) => s.custom && !s.type.startsWith("pulumi-nodejs") && !s.name.startsWith("default"));
    const ends = all.map((s) => s.end).filter((x): x is number => x !== undefined);
    runs.push({
      stream,
      kind: summary?.event.summaryEvent?.isPreview ? "preview" : "update",
      start: rel(list[0]!.at),
      firstStep: all.length ? Math.min(...all.map((s) => s.start)) : undefined,
      firstCustomStep: customs.length ? Math.min(...customs.map((s) => s.start)) : undefined,
      programLoadMs: programLoad(all),
      lastStepEnd: ends.length ? Math.max(...ends) : undefined,
      summary: summary && rel(summary.at),
      end: rel(list[list.length - 1]!.at),
      changes: summary?.event.summaryEvent?.resourceChanges,
      result: summary?.event.summaryEvent?.result,
    });
    lastSteps = all.sort((a, b) => a.start - b.start);
  }
  const wallMs = t1 - t0;
  return {
    wallMs,
    cliStartMs: runs.length ? runs[0]!.start : wallMs,
    exitMs: runs.length ? wallMs - runs[runs.length - 1]!.end : 0,
    runs,
    steps: lastSteps,
  };
}

function programLoad(steps: Step[]): number | undefined {
  const stack = steps.find((s) => s.type === "Stack");
  const others = steps.filter((s) => s.type !== "Stack" && !s.type.startsWith("pulumi-nodejs"));
  // A destroy does not run the program: its Stack step is a delete, and comes last.
  if (!stack || stack.op === "delete" || others.length === 0) return undefined;
  const load = Math.min(...others.map((s) => s.start)) - stack.start;
  return load >= 0 ? load : undefined;
}

/** Resource steps that do work through a provider (the dynamic resources and their provider). */
export const workSteps = (t: Timeline): (Step & { end: number })[] => t.steps.filter((s): s is Step & { end: number } => s.custom && s.end !== undefined);

/** Time in [from, to] during which no resource step was in flight: the engine and program alone. */
export function idleMs(steps: { start: number; end: number }[], from: number, to: number): number {
  const spans = steps
    .map((s) => [Math.max(s.start, from), Math.min(s.end, to)] as const)
    .filter(([a, b]) => b > a)
    .sort((a, b) => a[0] - b[0]);
  let busy = 0;
  let cursor = from;
  for (const [a, b] of spans) {
    if (b <= cursor) continue;
    busy += b - Math.max(a, cursor);
    cursor = b;
  }
  return to - from - busy;
}

export interface PathSegment {
  /** `step`: a resource step; `gap`: nothing of the path running (engine, program, provider checks). */
  kind: "head" | "step" | "gap" | "tail";
  label: string;
  type?: string;
  start: number;
  ms: number;
}

/**
 * The chain that decided the wall time, walked back from the step that ended last: each step's
 * predecessor is the step that ended last before it started (the engine starts a step as soon as
 * its dependencies end, so that is its dependency or one finishing together with it). Approximate
 * where steps end within a few ms of each other; exact enough to say where the time went.
 */
export function criticalPath(t: Timeline, slackMs = 50): PathSegment[] {
  const steps = workSteps(t);
  const main = t.runs[t.runs.length - 1];
  if (!main || steps.length === 0) return [];
  const chain: (Step & { end: number })[] = [];
  let cur: (Step & { end: number }) | undefined = steps.reduce((a, b) => (b.end > a.end ? b : a));
  while (cur) {
    chain.unshift(cur);
    const before: (Step & { end: number })[] = steps.filter((s) => s !== cur && s.end <= cur!.start + slackMs && s.start < cur!.start);
    cur = before.length ? before.reduce((a, b) => (b.end > a.end ? b : a)) : undefined;
  }
  const out: PathSegment[] = [];
  const previews = t.runs.filter((r) => r !== main);
  out.push({ kind: "head", label: "CLI start (spawn → first engine event)", start: 0, ms: t.cliStartMs });
  if (previews.length) {
    const pStart = previews[0]!.start;
    const load = previews[0]!.programLoadMs;
    const of = load === undefined ? "" : `; program load ${(load / 1000).toFixed(1)} s of it`;
    out.push({ kind: "head", label: `preview pass of \`pulumi up\` (program run, checks, diffs${of})`, start: pStart, ms: main.start - pStart });
  }
  const head = chain[0]!.start - main.start;
  const load = main.programLoadMs !== undefined && main.programLoadMs < head ? main.programLoadMs : 0;
  if (load > 0) out.push({ kind: "head", label: "update: program load (requires the compiled project and runs its top level)", start: main.start, ms: load });
  out.push({
    kind: "head",
    label: "update: language host + SDK start, registration, provider checks until the first step",
    start: main.start + load,
    ms: head - load,
  });
  let cursor = chain[0]!.start;
  for (const s of chain) {
    if (s.start - cursor > 0) out.push({ kind: "gap", label: "engine gap (registration, provider check/diff)", start: cursor, ms: s.start - cursor });
    out.push({ kind: "step", label: s.name, type: s.type, start: s.start, ms: s.end - s.start });
    cursor = Math.max(cursor, s.end);
  }
  out.push({ kind: "tail", label: "finish (last step → exit: outputs, state, plugins stopped)", start: cursor, ms: t.wallMs - cursor });
  return out;
}

/** Per step type: how many, the sum and the longest of their durations. */
export function byType(t: Timeline): Record<string, { count: number; totalMs: number; maxMs: number }> {
  const out: Record<string, { count: number; totalMs: number; maxMs: number }> = {};
  for (const s of workSteps(t)) {
    const d = s.end - s.start;
    const e = (out[s.type] ??= { count: 0, totalMs: 0, maxMs: 0 });
    e.count++;
    e.totalMs += d;
    e.maxMs = Math.max(e.maxMs, d);
  }
  return out;
}
