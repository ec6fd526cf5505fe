// The benchmark's set-up measure: the longest time set-up printed nothing, from its start to its exit.
import { describe, expect, it } from "vitest";
import { longestSilence } from "../../bench/setup-run";

describe("longestSilence", () => {
  it("counts from the start, between lines and to the exit", () => {
    expect(longestSilence([2_000, 12_000, 14_000], 20_000)).toBe(10_000);
    expect(longestSilence([16_000, 20_000], 21_000)).toBe(16_000);
    expect(longestSilence([1_000, 2_000], 30_000)).toBe(28_000);
  });

  it("is the whole run when nothing was printed", () => {
    expect(longestSilence([], 7_500)).toBe(7_500);
  });
});
