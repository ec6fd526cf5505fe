// What reaches the user when a provider operation fails: always a message. The engine prints only
// an error's message, so a thrown non-Error, or an Error without a message, would show as
// "error: undefined"; here it becomes a sentence naming the resource kind and the operation.
import type * as pulumi from "./pulumi";

/** The Error the engine gets for `err`, thrown by `operation` of a `kind` provider. */
export function clearError(kind: string, operation: string, err: unknown): Error {
  if (err instanceof Error && typeof err.message === "string" && err.message.trim() !== "") {
    // A fresh Error: fields such as a numeric `code` would be read by gRPC as its status.
    const clear = new Error(err.message);
    clear.stack = err.stack;
    return clear;
  }
  const why =
    err instanceof Error
      ? `${err.name || "an error"} without a message`
      : typeof err === "string"
        ? err || "an empty reason"
        : err === undefined || err === null
          ? "no reason given"
          : (() => {
              try {
                return JSON.stringify(err);
              } catch {
                return String(err);
              }
            })();
  return new Error(`${kind} ${operation} failed: ${why}`);
}

/** `provider` with every operation's failure turned into a clear Error. */
export function withClearErrors<I, O>(kind: string, provider: pulumi.dynamic.ResourceProvider<I, O>): pulumi.dynamic.ResourceProvider<I, O> {
  const wrapped: Record<string, unknown> = {};
  for (const [operation, method] of Object.entries(provider) as [string, (...args: unknown[]) => Promise<unknown>][]) {
    wrapped[operation] = async (...args: unknown[]) => {
      try {
        return await method.apply(provider, args);
      } catch (err) {
        throw clearError(kind, operation, err);
      }
    };
  }
  return wrapped as unknown as pulumi.dynamic.ResourceProvider<I, O>;
}

/** A clean-up after a failed step: what it undoes, for the message when it fails too. */
export interface UndoStep {
  what: string;
  run: () => Promise<unknown>;
}

/**
 * Undoes a half-made step after `err`, then throws `err`. A clean-up that fails too is never
 * swallowed: it is added to the message as a warning, since something may be left on the host.
 */
export async function undoThenThrow(err: unknown, steps: UndoStep[]): Promise<never> {
  const failed: string[] = [];
  for (const step of steps) {
    try {
      await step.run();
    } catch (undoErr) {
      failed.push(`${step.what}: ${undoErr instanceof Error ? undoErr.message : String(undoErr)}`);
    }
  }
  if (failed.length === 0) throw err;
  const message = err instanceof Error ? err.message : String(err);
  throw new Error(`${message}\nwarning: undoing it failed too, so something may be left on the host: ${failed.join("; ")}`);
}
