import { XMLParser } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { criticalPath, type Step, type Timeline } from "../../bench/events";
import { renderTimelineSvg, type TimelineReference } from "../../bench/timeline-svg";

const nasty = `b<&"disk`;

// An update whose chain is key → disk → ready; the zero-length step runs beside it. Out of start
// order, as a hand-made timeline may be.
const steps: Step[] = [
  { name: "d-ready", type: "Readiness", op: "create", custom: true, start: 2700, end: 8000 },
  { name: "stack", type: "Stack", op: "create", custom: false, start: 950, end: 8800 },
  { name: "a-key", type: "SshKeyPair", op: "create", custom: true, start: 1000, end: 1500 },
  { name: nasty, type: "Disk", op: "create", custom: true, start: 1600, end: 2600 },
  { name: "c-zero", type: "Seed", op: "create", custom: true, start: 1700, end: 1700 },
  { name: "e-unfinished", type: "Domain", op: "create", custom: true, start: 2000 },
];
const timeline: Timeline = {
  wallMs: 9100,
  cliStartMs: 300,
  exitMs: 200,
  runs: [
    { stream: 1, kind: "preview", start: 300, end: 900 },
    { stream: 2, kind: "update", start: 950, end: 8850 },
  ],
  steps,
};
const references: TimelineReference[] = [
  { label: "floor: VM ready", ms: 4000 },
  { label: "floor total", ms: 6000 },
];

const parse = (svg: string) =>
  new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@_", isArray: (name) => ["g", "rect", "line", "text"].includes(name) }).parse(svg, true);

/** Every element with this tag anywhere below `node`. */
function all(node: any, tag: string): any[] {
  if (node === null || typeof node !== "object") return [];
  if (Array.isArray(node)) return node.flatMap((n) => all(n, tag));
  return Object.entries(node).flatMap(([key, value]) => [...(key === tag ? [value].flat() : []), ...all(value, tag)]);
}

const textOf = (t: any): string => (typeof t === "string" ? t : t["#text"]);
const num = (v: string): number => Number(v);

function render(t: Timeline = timeline, refs = references) {
  const svg = renderTimelineSvg({ title: "pulumi up, test: 9.1 s", timeline: t, criticalPath: criticalPath(t), references: refs });
  const root = parse(svg).svg;
  const bars = all(root, "rect").filter((r) => r["@_class"] === "step" || r["@_class"] === "critical");
  const bar = (name: string) => bars.find((b) => String(b.title).startsWith(`${name} (`));
  return { svg, root, bars, bar };
}

describe("timeline SVG", () => {
  it("is an svg document with a size and a view box", () => {
    const { root } = render();
    expect(root["@_xmlns"]).toBe("http://www.w3.org/2000/svg");
    expect(root["@_width"]).toBe("1000");
    const height = num(root["@_height"]);
    expect(height).toBeGreaterThan(100);
    expect(root["@_viewBox"]).toBe(`0 0 1000 ${height}`);
  });

  it("draws one bar per finished work step, in start order, with a tooltip", () => {
    const { bars, bar } = render();
    expect(bars.map((b) => String(b.title).split(" (")[0])).toEqual(["a-key", nasty, "c-zero", "d-ready"]);
    const ys = bars.map((b) => num(b["@_y"]));
    expect([...ys].sort((a, b) => a - b)).toEqual(ys);
    expect(new Set(ys).size).toBe(4);
    expect(bar("a-key").title).toBe("a-key (SshKeyPair, create): 1.00–1.50 s, 500 ms");
    expect(bar("d-ready").title).toBe("d-ready (Readiness, create): 2.70–8.00 s, 5.3 s");
  });

  it("outlines the critical path's steps and only those", () => {
    const { bars } = render();
    const critical = bars.filter((b) => b["@_class"] === "critical").map((b) => String(b.title).split(" (")[0]);
    expect(critical).toEqual(["a-key", nasty, "d-ready"]);
    for (const b of bars) expect(b["@_stroke-width"] !== undefined).toBe(b["@_class"] === "critical");
  });

  it("places and sizes bars in proportion to time", () => {
    const { bar } = render();
    const [a, disk, zero, ready] = ["a-key", nasty, "c-zero", "d-ready"].map(bar).map((b) => ({ x: num(b["@_x"]), w: num(b["@_width"]) }));
    expect(a!.x).toBeLessThan(disk!.x);
    expect(disk!.x).toBeLessThan(zero!.x);
    expect(zero!.x).toBeLessThan(ready!.x);
    // The disk step takes twice as long as the key.
    expect(Math.abs(disk!.w - 2 * a!.w)).toBeLessThanOrEqual(1);
    // Starts 600 ms and 1700 ms after the key's.
    const perMs = (disk!.x - a!.x) / 600;
    expect(Math.abs(ready!.x - a!.x - 1700 * perMs)).toBeLessThanOrEqual(1);
    expect(Math.abs(a!.w - 500 * perMs)).toBeLessThanOrEqual(1);
    // A zero-length step is still visible.
    expect(zero!.w).toBeGreaterThanOrEqual(1);
  });

  it("draws the engine phases and a second-based axis", () => {
    const { root } = render();
    const phases = all(root, "rect").filter((r) => r["@_class"] === "phase");
    expect(phases.map((p) => String(p.title).split(" ")[0])).toEqual(["CLI", "preview", "update"]);
    const texts = all(root, "text").map(textOf);
    expect(texts).toEqual(expect.arrayContaining(["CLI start 0.3 s", "preview pass 0.6 s", "update 7.9 s"]));
    const ticks = all(root, "text")
      .filter((t) => t["@_class"] === "tick")
      .map(textOf);
    expect(ticks).toEqual(["0 s", "1 s", "2 s", "3 s", "4 s", "5 s", "6 s", "7 s", "8 s", "9 s"]);
  });

  it("draws each reference as a dashed line with its label, at its time", () => {
    const { root, bar } = render();
    const lines = all(root, "line").filter((l) => l["@_class"] === "reference");
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l["@_stroke-dasharray"]).toBeTruthy();
    const texts = all(root, "text").map(textOf);
    expect(texts).toEqual(expect.arrayContaining(["floor: VM ready 4.0 s", "floor total 6.0 s"]));
    expect(texts.some((t) => t.startsWith("reference: floor: VM ready, floor total"))).toBe(true);
    // 4 s is 3 s after the key's start, as far right as that is.
    const a = bar("a-key");
    const perMs = num(a["@_width"]) / 500;
    expect(Math.abs(num(lines[0]["@_x1"]) - num(a["@_x"]) - 3000 * perMs)).toBeLessThanOrEqual(1);
  });

  it("keeps markup characters of a name as text", () => {
    const { svg, root, bar } = render();
    expect(svg).not.toContain(nasty);
    expect(bar(nasty).title).toBe(`${nasty} (Disk, create): 1.60–2.60 s, 1.0 s`);
    expect(all(root, "text").map(textOf)).toContain(nasty);
  });

  it("draws an empty timeline as a valid picture without bars", () => {
    const empty: Timeline = { wallMs: 0, cliStartMs: 0, exitMs: 0, runs: [], steps: [] };
    const { root, bars } = render(empty, []);
    expect(bars).toHaveLength(0);
    expect(num(root["@_height"])).toBeGreaterThan(0);
    expect(all(root, "text").map(textOf)).toContain("critical path");
  });
});
