// The dynamic provider process when the engine goes away under it. A second Ctrl-C makes the
// engine interrupt its plugins (SIGINT), and a `pulumi` killed with SIGKILL leaves them running as
// orphans that would go on changing the host while the user already runs the next `up`. In the
// provider process (only there: tests and programs keep their own signal handling) the guard
// runs the pending clean-ups (temporary files on the VM host that hold secrets) and exits:
// on SIGINT or SIGTERM, and within a second of its parent, the engine, going away.

export type Cleanup = () => Promise<void>;

interface GuardState {
  cleanups: Map<number, Cleanup>;
  next: number;
}

export interface GuardHooks {
  /** Registers a signal handler. */
  onSignal(signal: "SIGINT" | "SIGTERM", handler: () => void): void;
  /** The current parent pid (process.ppid is read anew each time). */
  parentPid(): number;
  exit(code: number): void;
  /** How often to look for the parent. */
  intervalMs: number;
  /** How long clean-ups may take before the process exits anyway. */
  cleanupMs: number;
}

/** Whether this is the Node.js dynamic provider plugin that the engine starts. */
export function isProviderProcess(argv: readonly string[] = process.argv): boolean {
  return /[\\/]dynamic-provider[\\/]index\.js$/.test(argv[1] ?? "");
}

/** Runs every clean-up once, all at once, bounded by `ms`; failures are ignored (best effort). */
export async function runCleanups(cleanups: Map<number, Cleanup>, ms: number): Promise<void> {
  const all = [...cleanups.values()];
  cleanups.clear();
  await Promise.race([Promise.allSettled(all.map((c) => c())), new Promise((r) => setTimeout(r, ms).unref())]);
}

/** Installs the handlers and the parent watch; returns the state clean-ups register in. */
export function installProcessGuard(hooks: GuardHooks): { state: GuardState; stop: () => void } {
  const state: GuardState = { cleanups: new Map(), next: 0 };
  let leaving = false;
  const leave = (code: number) => {
    if (leaving) return;
    leaving = true;
    void runCleanups(state.cleanups, hooks.cleanupMs).then(() => hooks.exit(code));
  };
  hooks.onSignal("SIGINT", () => leave(130));
  hooks.onSignal("SIGTERM", () => leave(143));
  const parent = hooks.parentPid();
  const timer = setInterval(() => {
    if (hooks.parentPid() !== parent) leave(1);
  }, hooks.intervalMs);
  timer.unref();
  return { state, stop: () => clearInterval(timer) };
}

/** The process-wide guard; undefined outside the provider process. One per process, whatever module copy asks. */
function processGuard(): GuardState | undefined {
  const key = Symbol.for("vm-cluster.process-guard");
  const global = globalThis as unknown as Record<symbol, GuardState | undefined>;
  if (global[key] === undefined && isProviderProcess()) {
    global[key] = installProcessGuard({
      onSignal: (signal, handler) => process.on(signal, handler),
      parentPid: () => process.ppid,
      exit: (code) => process.exit(code),
      intervalMs: 1000,
      cleanupMs: 3000,
    }).state;
  }
  return global[key];
}

/** Starts the guard where it applies; called by every host connection. */
export function guardProviderProcess(): void {
  processGuard();
}

/**
 * Runs `cleanup` if the process is stopped before `release()` is called; a no-op outside the
 * provider process. The caller still cleans up itself on the normal path, then releases.
 */
export function cleanupOnAbort(cleanup: Cleanup): () => void {
  const state = processGuard();
  if (state === undefined) return () => undefined;
  const id = state.next++;
  state.cleanups.set(id, cleanup);
  return () => {
    state.cleanups.delete(id);
  };
}
