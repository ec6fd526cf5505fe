// Prints one plain closing line, "N passed, N failed, N skipped", that any CI can read,
// after vitest's own summary.
import type { Reporter, TestModule } from "vitest/node";

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    const counts = { passed: 0, failed: 0, skipped: 0, pending: 0 };
    for (const mod of modules) {
      for (const test of mod.children.allTests()) counts[test.result().state] += 1;
      // A file that failed to load has no tests to count, yet is a failure.
      if (mod.state() === "failed" && mod.children.size === 0) counts.failed += 1;
    }
    counts.failed += unhandledErrors.length;
    process.stdout.write(`\n${counts.passed} passed, ${counts.failed} failed, ${counts.skipped + counts.pending} skipped\n`);
  }
}
