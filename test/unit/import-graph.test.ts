// The layout as a rule: every import between folders goes down the layers below, and no file
// imports itself back through others. A new folder fails here until it is given a layer.
import { readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "../..");

/** Lower layers first; a folder may import its own files and those of lower layers only. */
const LAYERS: readonly (readonly string[])[] = [
  ["model", "provider", "engine"], // the typed model, what every dynamic provider shares, the language and provider hosts (built on their own): import nothing of ours
  ["transport"], // commands on the VM host: local, in a namespace, with sudo, over SSH
  ["secrets"], // key pairs, the console password
  ["cloudinit"], // the guest's first-boot documents
  ["libvirt", "host", "outputs"], // libvirt objects, host settings, hand-off files
  ["guest"], // what runs in a booted guest
  ["components"], // the Pulumi components
  ["testbed"], // a real libvirtd, image mirror and engine sandbox, for the tests and the benchmark
  [".", "library", "tools", "bench"], // the stack program and library entry, scripts, the benchmark
  ["test"],
];
const SKIP = new Set(["node_modules", ".tools", ".state", ".git", "fixtures"]);

function sourceFiles(dir = ROOT): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (SKIP.has(name)) return [];
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return /\.(ts|mts)$/.test(name) && !name.endsWith(".d.ts") ? [path.relative(ROOT, full)] : [];
  });
}

/** The project files `file` imports (import, export-from, import(), require), as root-relative paths. */
function importsOf(file: string, exists: (f: string) => boolean): string[] {
  const info = ts.preProcessFile(readFileSync(path.join(ROOT, file), "utf8"), true, true);
  return info.importedFiles
    .map((ref) => ref.fileName)
    .filter((spec) => spec.startsWith("."))
    .map((spec) => {
      const base = path.normalize(path.join(path.dirname(file), spec)).replace(/\.js$/, "");
      return [`${base}.ts`, `${base}.mts`, path.join(base, "index.ts")].find(exists);
    })
    .filter((f): f is string => f !== undefined);
}

const folderOf = (file: string) => (file.includes(path.sep) ? file.split(path.sep)[0] : ".");

interface Graph {
  [file: string]: string[];
}

/** Each import that goes up or sideways between folders, and each folder with no layer. */
function layerProblems(graph: Graph, layers: readonly (readonly string[])[]): string[] {
  const layerOf = (folder: string) => layers.findIndex((l) => l.includes(folder));
  const problems = new Set<string>();
  for (const [file, targets] of Object.entries(graph)) {
    if (layerOf(folderOf(file)) < 0) problems.add(`${folderOf(file)}/ has no layer in import-graph.test.ts`);
    for (const target of targets) {
      const [from, to] = [folderOf(file), folderOf(target)];
      if (from !== to && layerOf(to) >= layerOf(from)) problems.add(`${file} imports ${target}: ${to}/ is not below ${from}/`);
    }
  }
  return [...problems];
}

/** Each import cycle, as the files around it. */
function cycles(graph: Graph): string[][] {
  const found: string[][] = [];
  const done = new Set<string>();
  const onPath: string[] = [];
  const visit = (file: string) => {
    onPath.push(file);
    for (const target of graph[file] ?? []) {
      const at = onPath.indexOf(target);
      if (at >= 0) found.push([...onPath.slice(at), target]);
      else if (!done.has(target)) visit(target);
    }
    onPath.pop();
    done.add(file);
  };
  for (const file of Object.keys(graph)) if (!done.has(file)) visit(file);
  return found;
}

describe("import graph", () => {
  const files = sourceFiles();
  const known = new Set(files);
  const graph: Graph = Object.fromEntries(files.map((f) => [f, importsOf(f, (g) => known.has(g))]));

  it("reads the imports of every folder", () => {
    expect(graph[path.join("components", "cluster.ts")]).toContain(path.join("model", "index.ts"));
    expect(files.length).toBeGreaterThan(100);
  });

  it("goes down the layers only", () => {
    expect(layerProblems(graph, LAYERS)).toEqual([]);
  });

  it("has no cycles", () => {
    expect(cycles(graph).map((c) => c.join(" > "))).toEqual([]);
  });

  it("names an upward import, a folder without a layer and a cycle when there is one", () => {
    const bad: Graph = { "model/a.ts": ["outputs/b.ts"], "outputs/b.ts": ["model/a.ts"], "extra/c.ts": [] };
    expect(layerProblems(bad, LAYERS)).toEqual([
      "model/a.ts imports outputs/b.ts: outputs/ is not below model/",
      "extra/ has no layer in import-graph.test.ts",
    ]);
    expect(cycles(bad)).toEqual([["model/a.ts", "outputs/b.ts", "model/a.ts"]]);
  });
});
