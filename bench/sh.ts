// Small process helpers for the benchmark: argv arrays only, no shell; a clock shared by every
// measurement; an interrupt flag that long waits check, so Ctrl-C still cleans up.
import { execFile, execFileSync } from "node:child_process";
import { performance } from "node:perf_hooks";

/** Milliseconds on one monotonic clock for the whole run. */
export const now = (): number => performance.now();

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let interrupted = false;
export const interrupt = (): void => {
  interrupted = true;
};
export function checkInterrupted(): void {
  if (interrupted) throw new Error("interrupted");
}
export const isInterrupted = (): boolean => interrupted;

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs argv to completion; never throws for a non-zero exit (the caller decides). */
export function run(argv: string[], opts: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      argv[0],
      argv.slice(1),
      { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: opts.timeoutMs ?? 0, env: { ...process.env, LC_ALL: "C" } },
      (err, stdout, stderr) => {
        const code = (err as { code?: unknown } | null)?.code;
        if (code === "ENOENT") reject(new Error(`${argv[0]} is not installed`));
        else resolve({ code: err ? (typeof code === "number" ? code : -1) : 0, stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/** Runs argv and returns its stdout; a non-zero exit is an error naming the command. */
export async function ok(argv: string[], opts: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<string> {
  const r = await run(argv, opts);
  if (r.code !== 0) throw new Error(`${argv.join(" ")} exited with ${r.code}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

export function okSync(argv: string[]): string {
  return execFileSync(argv[0], argv.slice(1), { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

export const LIBVIRT_URI = "qemu:///system";
export const virsh = (...args: string[]): Promise<string> => ok(["virsh", "-q", "-c", LIBVIRT_URI, ...args]);
export const virshTry = (...args: string[]): Promise<RunResult> => run(["virsh", "-q", "-c", LIBVIRT_URI, ...args]);

/** Seconds with one decimal, for text. */
export const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
