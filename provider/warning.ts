// A warning from inside a provider operation. A dynamic provider has no engine connection to log
// through, but the engine shows what a provider process writes to stderr in the run's diagnostics;
// a line that starts with "warning:" reads as one there.
export function providerWarning(message: string): void {
  process.stderr.write(`warning: ${message}\n`);
}

/** The warning for an object of ours that is gone, its name now taken by one this stack did not make. */
export function leftAloneWarning(what: string, removeHint: string): void {
  providerWarning(
    `${what} is not the one this stack created (that one is gone), so destroy left it alone; remove it by hand if nobody needs it (${removeHint})`,
  );
}
