// Prints one plain closing line, "N passed, N failed, N skipped", that any CI can read,
// after vitest's own summary.
import type { Reporter, TestModule } from "vitest/node";

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    const counts = { passed: 0, failed: 0, skipped: 0, pending: 0 };
    for (const mod of modules) {
      let failedTests = 0;
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        counts[state] += 1;
        if (state === "failed") failedTests += 1;
      }
      // A file that failed to load, or whose beforeAll failed (its tests then show as skipped),
      // is a failure even with no failed test to count.
      if (mod.state() === "failed" && failedTests === 0) counts.failed += 1;
    }
    counts.failed += unhandledErrors.length;
    process.stdout.write(`\n${counts.passed} passed, ${counts.failed} failed, ${counts.skipped + counts.pending} skipped\n`);
  }
}
