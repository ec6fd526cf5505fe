// Waiting on a condition the test bed cannot be told about (a daemon's pid file, a process gone).
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `ok` until it holds; throws naming `what` after `ms`. */
export async function waitFor(what: string, ok: () => boolean, ms: number, pollMs = 100): Promise<void> {
  const until = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(pollMs);
  }
}
