// What every host connection shares: the command interface, its errors, and the argv wrappers.
// Commands are argv arrays end to end; over SSH, where the remote shell must parse one string,
// `shellQuote` is the one place that quotes them.

/** Options both connection kinds share. */
export interface CommonConnectionSpec {
  /** Run every command through `sudo -n` (a user with passwordless sudo). */
  sudo?: boolean;
  /** Run every command inside this network namespace (`ip netns exec`): the test bed and demo. */
  netns?: string;
}

export interface RunOptions {
  /** Bytes for the program's standard input. */
  input?: string | Buffer;
  /** Exit codes that are not an error (default: only 0). */
  okCodes?: number[];
  /** How long the command may run before it is stopped and fails (default DEFAULT_COMMAND_SECONDS). */
  timeoutSeconds?: number;
}

/**
 * The bound on any host command that names none: far above what a virsh or qemu-img call takes,
 * so only a hung one meets it. Slower work (package installs, downloads) gives its own.
 */
export const DEFAULT_COMMAND_SECONDS = 900;
/** After TERM at its time limit, how long a command has before KILL (both connections). */
export const KILL_AFTER_SECONDS = 5;

export function commandSeconds(opts: RunOptions): number {
  return opts.timeoutSeconds ?? DEFAULT_COMMAND_SECONDS;
}

export interface CommandResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface HostConnection {
  /** For messages: where commands run. */
  readonly description: string;
  /** Runs argv; rejects with a CommandError when the exit code is not in `okCodes`. */
  run(argv: string[], opts?: RunOptions): Promise<CommandResult>;
}

/**
 * A failed host command, with everything needed to see why. A plain Error with fields, never a
 * subclass: Pulumi serializes provider code into state, and a serialized `class extends Error`
 * calls Error as a function, which drops the message (the engine then printed "error: undefined").
 * The exit code is not called `code`: gRPC would read that as its own status code.
 */
export interface CommandError extends Error {
  readonly name: "CommandError";
  readonly argv: string[];
  readonly exitCode: number | null;
  readonly stderr: string;
  /** false: the command never ran (the host was not reachable, the program is missing); `stderr` says why. */
  readonly started: boolean;
  /** The command ran past its time limit and was stopped. */
  readonly timedOut: boolean;
}

export function commandError(argv: string[], exitCode: number | null, stderr: string, where: string, started = true): CommandError {
  const message = started
    ? `\`${argv.join(" ")}\` on ${where} failed (exit ${exitCode ?? "by signal"}): ${stderr.trim() || "no error output"}`
    : `could not run \`${argv.join(" ")}\` on ${where}: ${stderr.trim()}`;
  return Object.assign(new Error(message), { name: "CommandError" as const, argv, exitCode, stderr, started, timedOut: false });
}

/** The error of a command stopped at its time limit, with what it printed until then. */
export function timeoutError(argv: string[], seconds: number, stderr: string, where: string): CommandError {
  const said = stderr.trim() ? `; its last output: ${stderr.trim().split("\n").slice(-3).join(" / ")}` : "";
  const message = `\`${argv.join(" ")}\` on ${where} did not finish within ${seconds} s, so it was stopped${said}`;
  return Object.assign(new Error(message), { name: "CommandError" as const, argv, exitCode: null, stderr, started: true, timedOut: true });
}

export function isCommandError(err: unknown): err is CommandError {
  return err instanceof Error && err.name === "CommandError";
}

/** The argv actually run: sudo and namespace wrappers around the command. */
export function wrapArgv(spec: CommonConnectionSpec, argv: string[]): string[] {
  let out = argv;
  if (spec.netns) out = ["ip", "netns", "exec", spec.netns, ...out];
  if (spec.sudo) out = ["sudo", "-n", "--", ...out];
  return out;
}

/** POSIX shell quoting of an argv: each word in single quotes, embedded quotes closed and escaped. */
export function shellQuote(argv: string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}

/** Collects a child's output and settles like `run` does: shared by both connections. */
export function settle(
  argv: string[],
  where: string,
  opts: RunOptions,
  code: number | null,
  stdout: Buffer[],
  stderr: Buffer[],
): { ok: true; result: CommandResult } | { ok: false; error: CommandError } {
  const result = { stdout: Buffer.concat(stdout).toString("utf8"), stderr: Buffer.concat(stderr).toString("utf8"), code: code ?? -1 };
  return (opts.okCodes ?? [0]).includes(result.code) ? { ok: true, result } : { ok: false, error: commandError(argv, code, result.stderr, where) };
}
