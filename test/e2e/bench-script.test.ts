// README's quick benchmark, typed as shown: it runs to the end and writes its results (to a
// temporary folder here, so the committed results stay as measured). No time is asserted: the
// numbers are the benchmark's to report, not a test's to judge.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../testbed/engine";
import { readmeCommand, runShell } from "../support/readme";

const resultsDir = mkdtempSync(path.join(tmpdir(), "vmc-bench-results-"));
afterAll(() => rmSync(resultsDir, { recursive: true, force: true }));

describe("the benchmark script", () => {
  it("runs its quick check and writes complete results, leaving nothing behind", async () => {
    // One repeat of each no-op run, two floor/up pairs: the test checks the script, not the numbers (CI time).
    const r = await runShell(readmeCommand("BENCH_SIZES=1 BENCH_SETUP=0 npm run bench"), {
      cwd: projectRoot,
      env: { BENCH_RESULTS_DIR: resultsDir, BENCH_REPEATS: "1", BENCH_PAIRS: "2" },
      timeoutMs: 1_100_000,
    });
    expect(r.code, r.out).toBe(0);
    const results = JSON.parse(readFileSync(path.join(resultsDir, "latest.json"), "utf8"));
    expect(results.complete, results.error).toBe(true);
    expect(results.settings.sizes).toEqual([1]);
    expect(results.noop.upRuns).toHaveLength(1);
    // The floor of the same size, with the same CA certificate as the cluster's VMs.
    expect(results.floors.map((f: { n: number; pair: number }) => [f.n, f.pair])).toEqual([
      [1, 1],
      [1, 2],
    ]);
    expect(results.floors[0].totalMs).toBeGreaterThan(0);
    expect(results.settings.caCertificate).toBe(true);
    expect(results.noop.refreshRuns).toHaveLength(1);
    expect(results.empty.refreshRuns).toHaveLength(1);
    expect(results.ups.map((u: { n: number; pair: number }) => [u.n, u.pair])).toEqual([
      [1, 1],
      [1, 2],
    ]);
    expect(results.ups[0].up.wallMs).toBeGreaterThan(0);
    // Each pair's up over its own floor; the size's ratio is their median.
    const pairs = [0, 1].map((i) => results.ups[i].up.wallMs / results.floors[i].totalMs);
    expect(results.ratios.upOverFloorPairs["1"]).toEqual(pairs);
    expect(results.ratios.upOverFloor["1"]).toBeCloseTo((pairs[0]! + pairs[1]!) / 2, 9);
    // The run removes what it made: its clusters' leftovers are recorded after each destroy.
    expect(results.ups.map((u: { leftovers: string[] }) => u.leftovers)).toEqual([[], []]);
    const table = readFileSync(path.join(resultsDir, "latest.md"), "utf8");
    expect(table).toMatch(/\| `pulumi up --yes`, 1 VM, nothing → all ready \(pair 2\) \| [\d.]+ s \| [\d.]+ × the floor of 1 \(pair 2\) \|/);
    expect(table).toMatch(/\| \*\*`pulumi up --yes`, 1 VM, over the floor of 1: median of the 2 pairs\*\* \| {2}\| \*\*[\d.]+ × the floor of 1\*\* \|/);
    // The picture of the largest up: one bar per resource step, the floor's VM as a reference line.
    const svg = readFileSync(path.join(resultsDir, "latest-timeline.svg"), "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.match(/class="(critical|step)"/g)?.length).toBe(
      results.ups[0].up.timeline.steps.filter((s: { custom: boolean; end?: number }) => s.custom && s.end !== undefined).length,
    );
    expect(svg).toContain("floor: boreas ready");
  }, 1_200_000);
});
