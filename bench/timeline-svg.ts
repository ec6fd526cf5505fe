// A picture of one `pulumi up`: the engine's phases, then one bar per resource step on a shared time
// axis, the critical path outlined and reference times (such as the plain-virsh floor) dashed. Built
// from typed elements by the XML library, as the libvirt documents are, so it escapes every name.
import { attrs, buildDocument, textWithAttrs, type XmlElement } from "../libvirt/xml/codec";
import { workSteps, type PathSegment, type Timeline } from "./events";

/** A vertical reference line, ms from the command's spawn. */
export interface TimelineReference {
  label: string;
  ms: number;
}
export interface TimelineSvgArgs {
  /** E.g. "pulumi up, 4 VMs: 127.1 s". */
  title: string;
  /** Its update run's resource steps that do work (workSteps) are drawn, one row each. */
  timeline: Timeline;
  /** From criticalPath(timeline): its steps are outlined. */
  criticalPath: PathSegment[];
  references: TimelineReference[];
}

const WIDTH = 1000;
const PLOT_LEFT = 260; // room for the resource names at the left
const PLOT_RIGHT = WIDTH - 20;
const ROW = 14;
const BAR = 10;
const LINE = 13; // one line of 11 px text
const CHAR = 6; // rough width of a character at 11 px, to decide whether a label fits
const FONT = { "font-family": "sans-serif", "font-size": 11 };
const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
const CRITICAL = { stroke: "#111111", "stroke-width": 2 };
const DASHED = { stroke: "#c0392b", "stroke-width": 1, "stroke-dasharray": "5 3" };
const GRID = "#e3e3e3";
// Tick spacings in seconds; the first that gives at most 12 ticks.
const TICK_SECONDS = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600];

const px = (v: number): number => Math.round(v * 10) / 10;
const seconds = (ms: number, digits = 1): string => `${(ms / 1000).toFixed(digits)} s`;
const duration = (ms: number): string => (ms < 1000 ? `${Math.round(ms)} ms` : seconds(ms));

function label(x: number, y: number, content: string, extra: Record<string, string | number> = {}): XmlElement {
  return textWithAttrs(content, { x: px(x), y: px(y), ...FONT, fill: "#222222", ...extra });
}

/** A label starting at x, or ending there when it would run off the right edge. */
function labelAt(x: number, y: number, content: string): XmlElement {
  if (x + content.length * CHAR <= WIDTH - 4) return label(x + 3, y, content);
  return label(x - 3, y, content, { "text-anchor": "end" });
}

function rect(x: number, y: number, width: number, height: number, extra: Record<string, string | number>, tooltip?: string): XmlElement {
  const element = attrs({ x: px(x), y: px(y), width: px(width), height: px(height), ...extra });
  return tooltip === undefined ? element : { ...element, title: tooltip };
}

function line(x1: number, y1: number, x2: number, y2: number, extra: Record<string, string | number>): XmlElement {
  return attrs({ x1: px(x1), y1: px(y1), x2: px(x2), y2: px(y2), ...extra });
}

export function renderTimelineSvg(args: TimelineSvgArgs): string {
  const t = args.timeline;
  const steps = workSteps(t).sort((a, b) => a.start - b.start);
  const onPath = args.criticalPath.filter((p) => p.kind === "step");
  const critical = (s: { name: string; start: number }) => onPath.some((p) => p.label === s.name && p.start === s.start);

  // The axis spans everything drawn; at least a second, so an empty run still has a scale.
  const endMs = Math.max(1000, t.wallMs, ...t.runs.map((r) => r.end), ...steps.map((s) => s.end), ...args.references.map((r) => r.ms));
  const x = (ms: number) => PLOT_LEFT + (ms / endMs) * (PLOT_RIGHT - PLOT_LEFT);
  const tickS = TICK_SECONDS.find((s) => Math.ceil(endMs / 1000 / s) <= 12) ?? TICK_SECONDS[TICK_SECONDS.length - 1]!;

  // Rows from the top: title, axis labels, the engine's phases (labels too wide for their band
  // get a line each below it), the steps, the reference labels (a line each: they may be close
  // together), the legend.
  const axisY = 44;
  const phaseY = axisY + 6;
  const bands = [
    { name: "CLI start", start: 0, end: t.cliStartMs },
    ...t.runs.map((r) => ({ name: r.kind === "preview" ? "preview pass" : "update", start: r.start, end: r.end })),
  ];
  const phaseRects: XmlElement[] = [];
  const phaseTexts: XmlElement[] = [label(8, phaseY + 12, "engine phases", { "font-weight": "bold" })];
  let overflow = 0;
  bands.forEach((b, i) => {
    const text = `${b.name} ${seconds(b.end - b.start)}`;
    const width = Math.max(1, x(b.end) - x(b.start));
    const fill = i === 0 ? "#d9d9d9" : b.name === "update" ? "#9ecae1" : "#c6dbef";
    phaseRects.push(
      rect(x(b.start), phaseY, width, ROW + 2, { fill, stroke: "#ffffff", class: "phase" }, `${text}: ${(b.start / 1000).toFixed(2)}–${seconds(b.end, 2)}`),
    );
    if (width >= text.length * CHAR + 6) phaseTexts.push(label(x(b.start) + 3, phaseY + 12, text));
    else phaseTexts.push(labelAt(x(b.start), phaseY + ROW + 2 + LINE * ++overflow, text));
  });

  const stepsY = phaseY + ROW + 2 + LINE * overflow + 8;
  const colours = new Map<string, string>();
  const colour = (type: string) => colours.get(type) ?? colours.set(type, PALETTE[colours.size % PALETTE.length]!).get(type)!;
  const bars: XmlElement[] = [];
  const names: XmlElement[] = [];
  steps.forEach((s, i) => {
    const top = stepsY + i * ROW;
    const isCritical = critical(s);
    const tooltip = `${s.name} (${s.type}, ${s.op}): ${(s.start / 1000).toFixed(2)}–${seconds(s.end, 2)}, ${duration(s.end - s.start)}${s.failed ? ", failed" : ""}`;
    // A step of a few ms (or none) is still one pixel wide: it happened.
    const width = Math.max(1, x(s.end) - x(s.start));
    bars.push(
      rect(x(s.start), top + 2, width, BAR, { fill: colour(s.type), class: isCritical ? "critical" : "step", ...(isCritical ? CRITICAL : {}) }, tooltip),
    );
    names.push(label(8, top + 11, s.name, isCritical ? { "font-weight": "bold" } : {}));
  });
  const stepsBottom = stepsY + steps.length * ROW + 4;

  const references = [...args.references].sort((a, b) => a.ms - b.ms);
  const referenceLines = references.map((r, i) => line(x(r.ms), phaseY, x(r.ms), stepsBottom + LINE * (i + 1) - 9, { ...DASHED, class: "reference" }));
  const referenceTexts = references.map((r, i) => labelAt(x(r.ms), stepsBottom + LINE * (i + 1), `${r.label} ${seconds(r.ms)}`));

  const ticks: number[] = [];
  for (let i = 0; i * tickS * 1000 <= endMs; i++) ticks.push(Number((i * tickS).toFixed(1)));
  const gridLines = ticks.map((s) => line(x(s * 1000), axisY, x(s * 1000), stepsBottom, { stroke: GRID, "stroke-width": 1, class: "tick" }));
  const tickTexts = ticks.map((s) => label(x(s * 1000), axisY - 4, `${s} s`, { "text-anchor": "middle", class: "tick" }));

  const legendY = stepsBottom + LINE * references.length + 22;
  const legendRects = [rect(PLOT_LEFT, legendY - 9, 24, BAR, { fill: "#dddddd", class: "legend", ...CRITICAL })];
  const legendTexts = [label(PLOT_LEFT + 30, legendY, "critical path")];
  const legendLines: XmlElement[] = [];
  if (references.length) {
    const refX = PLOT_LEFT + 140;
    legendLines.push(line(refX, legendY - 4, refX + 24, legendY - 4, { ...DASHED, class: "legend" }));
    const named = `reference: ${[...new Set(references.map((r) => r.label))].join(", ")}`;
    legendTexts.push(label(refX + 30, legendY, refX + 30 + named.length * CHAR <= WIDTH ? named : "reference time"));
  }
  const height = Math.ceil(legendY + 12);

  // Painting order is the order of the groups: grid under the bars, labels on top.
  return buildDocument("svg", {
    ...attrs({ xmlns: "http://www.w3.org/2000/svg", width: WIDTH, height, viewBox: `0 0 ${WIDTH} ${height}` }),
    title: args.title,
    rect: rect(0, 0, WIDTH, height, { fill: "#ffffff", class: "background" }),
    g: [
      { ...attrs({ class: "axis" }), line: gridLines, text: tickTexts },
      { ...attrs({ class: "phases" }), rect: phaseRects, text: phaseTexts },
      { ...attrs({ class: "steps" }), rect: bars, text: names },
      { ...attrs({ class: "references" }), line: referenceLines, text: referenceTexts },
      { ...attrs({ class: "legend" }), rect: legendRects, line: legendLines, text: legendTexts },
      { ...attrs({ class: "title" }), text: label(8, 20, args.title, { "font-size": 14, "font-weight": "bold" }) },
    ],
  });
}
