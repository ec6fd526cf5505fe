// A scripted host for the host resources' logic: answers by argv, records every call.
import { commandError, type CommandResult, type HostConnection, type RunOptions } from "../../transport/connection";

export type Answer = (argv: string[], input: string | undefined) => Partial<CommandResult> | undefined;

export class FakeConnection implements HostConnection {
  readonly description = "the fake host";
  readonly calls: string[][] = [];

  constructor(private readonly answer: Answer) {}

  async run(argv: string[], opts: RunOptions = {}): Promise<CommandResult> {
    this.calls.push(argv);
    const r = this.answer(argv, opts.input?.toString()) ?? {};
    const result = { stdout: r.stdout ?? "", stderr: r.stderr ?? "", code: r.code ?? 0 };
    if (!(opts.okCodes ?? [0]).includes(result.code)) throw commandError(argv, result.code, result.stderr, this.description);
    return result;
  }

  /** The calls whose argv starts with `prefix`. */
  callsOf(...prefix: string[]): string[][] {
    return this.calls.filter((argv) => prefix.every((p, i) => argv[i] === p));
  }
}
