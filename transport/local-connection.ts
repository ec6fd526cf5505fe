// Commands on this machine: a plain spawn of the argv, no shell.
import { spawn } from "node:child_process";
import {
  commandError,
  commandSeconds,
  KILL_AFTER_SECONDS,
  settle,
  timeoutError,
  wrapArgv,
  type CommandResult,
  type CommonConnectionSpec,
  type HostConnection,
  type RunOptions,
} from "./command";

export interface LocalConnectionSpec extends CommonConnectionSpec {
  type: "local";
}

export class LocalConnection implements HostConnection {
  readonly description: string;

  constructor(private readonly spec: LocalConnectionSpec) {
    this.description = spec.netns ? `this machine (network namespace ${spec.netns})` : "this machine";
  }

  run(argv: string[], opts: RunOptions = {}): Promise<CommandResult> {
    const full = wrapArgv(this.spec, argv);
    return new Promise((resolve, reject) => {
      // LC_ALL=C: tools answer in English so their output can be parsed, as the seed does for lscpu.
      const child = spawn(full[0], full.slice(1), {
        stdio: ["pipe", "pipe", "pipe"],
        env: { ...process.env, LC_ALL: "C" },
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on("data", (b: Buffer) => out.push(b));
      child.stderr.on("data", (b: Buffer) => err.push(b));
      const seconds = commandSeconds(opts);
      let settled = false;
      // Declared before use: Pulumi's closure serializer cannot capture a const used ahead of its line.
      let timer: NodeJS.Timeout | undefined = undefined;
      const finish = (act: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        act();
      };
      const timedOut = () => finish(() => reject(timeoutError(argv, seconds, Buffer.concat(err).toString("utf8"), this.description)));
      let stopping = false;
      timer = setTimeout(() => {
        stopping = true;
        // TERM first: sudo passes it on to the command (it cannot pass on KILL).
        child.kill("SIGTERM");
        setTimeout(() => {
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
          // A grandchild that ignores TERM may hold the pipes open for long: the wait ends here.
          child.stdout.destroy();
          child.stderr.destroy();
          timedOut();
        }, KILL_AFTER_SECONDS * 1000).unref();
      }, seconds * 1000);
      child.on("error", (e) => finish(() => reject(commandError(argv, null, e.message, this.description, false))));
      child.on("close", (code) => {
        if (stopping) return timedOut();
        finish(() => {
          const s = settle(argv, this.description, opts, code, out, err);
          if (s.ok) resolve(s.result);
          else reject(s.error);
        });
      });
      child.stdin.on("error", () => undefined); // a program that exits without reading its input
      child.stdin.end(opts.input ?? "");
    });
  }
}
