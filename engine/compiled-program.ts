// The program as JavaScript, compiled once per state of its sources. ts-node transpiles every
// module again on each run (an `up` runs the program twice), which cost ~2 s a run on our machines;
// requiring the compiled modules costs ~0.15 s. The compile is transpile-only, as the wrapper runs
// ts-node (npm test type-checks with tsc), and lands in <program>/.tools/program/<key>/, where
// `require` still finds the program's node_modules by walking up.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** Compiled programs live here, under the program's folder. */
export const CACHE_DIR = path.join(".tools", "program");
/**
 * Tells the program the folder of the compile it runs from: it keeps its providers' serialized code
 * there (provider/dynamic-resource.ts reads the same name).
 */
export const COMPILED_PROGRAM_ENV = "VM_CLUSTER_COMPILED_PROGRAM";
/** Compiles kept besides the one in use: a run that started before a source change may still need its own. */
const KEEP = 3;
/** Part of the key: bump it when what a compile writes changes. */
const FORMAT = "2";
/** Folders that hold no program source. */
const SKIPPED_DIRS = new Set(["node_modules", "dist"]);

/** What compiles one module: TypeScript's transpileModule with the program's tsconfig.json. */
export interface Transpiler {
  transpile(source: string, fileName: string): string;
}

/** The program's TypeScript sources, relative to `dir` and sorted: every .ts file outside node_modules, dist and dot folders. */
export function programSources(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel === "" ? entry.name : path.join(rel, entry.name);
      if (entry.isDirectory()) {
        if (!entry.name.startsWith(".") && !SKIPPED_DIRS.has(entry.name)) walk(child);
      } else if (entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) out.push(child);
    }
  };
  walk("");
  return out.sort();
}

/**
 * The key of one state of the sources: their paths and contents, tsconfig.json, package-lock.json
 * (the SDK whose serializer wrote the providers' code kept with the compile) and the compiler's version.
 */
export function sourceKey(dir: string, files: readonly string[], compilerVersion: string): string {
  const hash = createHash("sha256").update(`${FORMAT}\0${compilerVersion}\0`);
  for (const manifest of ["tsconfig.json", "package-lock.json"]) {
    const file = path.join(dir, manifest);
    hash.update(fs.existsSync(file) ? fs.readFileSync(file) : "").update("\0");
  }
  for (const file of files) hash.update(`\0${file}\0`).update(fs.readFileSync(path.join(dir, file)));
  return hash.digest("hex").slice(0, 32);
}

/** Relative modules a compiled module requires: `require("./x")` and `require("../y")`, as TypeScript emits imports. */
export function localRequires(js: string): string[] {
  return [...js.matchAll(/\brequire\((["'])(\.{1,2}\/[^"']*)\1\)/g)].map((m) => m[2]!);
}

/**
 * Compiles `entry` and every source it reaches through relative requires into `into`, each module
 * at the same relative path with .js. Tests and tools the program never loads are left out.
 */
export function compileReachable(dir: string, entry: string, sources: readonly string[], into: string, transpiler: Transpiler): void {
  const known = new Set(sources);
  const pending = [entry];
  const done = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (done.has(file)) continue;
    done.add(file);
    const js = transpiler.transpile(fs.readFileSync(path.join(dir, file), "utf8"), file);
    const out = path.join(into, file.replace(/\.ts$/, ".js"));
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, js);
    for (const spec of localRequires(js)) {
      const base = path.join(path.dirname(file), spec);
      const found = [`${base}.ts`, path.join(base, "index.ts")].find((f) => known.has(f));
      // Not a source of ours (a .js or .json file): left to fail or succeed as it would under ts-node.
      if (found !== undefined) pending.push(found);
    }
  }
}

/**
 * The .ts file that runs as the program: the entry Pulumi.yaml names (`main`), or for the folder
 * itself package.json's `main`, else index.ts, as the SDK's `cmd/run` resolves them. Undefined for
 * anything else (package.json `exports`, a .js entry): ts-node runs those as before.
 */
export function entrySource(dir: string, entry: string): string | undefined {
  let rel = path.normalize(entry);
  if (rel === "." || rel === "./") {
    const manifest = path.join(dir, "package.json");
    const pkg = fs.existsSync(manifest) ? (JSON.parse(fs.readFileSync(manifest, "utf8")) as { main?: unknown; exports?: unknown }) : {};
    if (pkg.exports !== undefined) return undefined;
    rel = typeof pkg.main === "string" ? path.normalize(pkg.main) : "index.ts";
  }
  if (!rel.endsWith(".ts") || path.isAbsolute(rel) || rel.startsWith("..") || !fs.existsSync(path.join(dir, rel))) return undefined;
  return rel;
}

/** A compile of the program: its folder and its entry point in it. */
export interface CompiledProgram {
  dir: string;
  entry: string;
}

/**
 * The compiled program in `dir` whose entry is `entry`, compiling its sources when they changed
 * since the last run. Undefined when there is nothing to compile this way (no .ts entry, see
 * entrySource, or no TypeScript compiler installed for it): the program then runs through ts-node.
 */
export function compiledProgram(
  dir: string,
  entry: string,
  loadTranspiler: (dir: string) => { version: string; load: () => Transpiler } | undefined,
): CompiledProgram | undefined {
  const rel = entrySource(dir, entry);
  if (rel === undefined) return undefined;
  const compiler = loadTranspiler(dir);
  if (compiler === undefined) return undefined;
  const files = programSources(dir);
  const cache = path.join(dir, CACHE_DIR);
  const target = path.join(cache, sourceKey(dir, files, compiler.version));
  const compiled = path.join(target, rel.replace(/\.ts$/, ".js"));
  if (fs.existsSync(compiled)) return { dir: target, entry: compiled };

  // Built aside and renamed into place: a run never sees half a compile, and two runs racing both succeed.
  fs.mkdirSync(cache, { recursive: true });
  const staging = fs.mkdtempSync(path.join(cache, "staging-"));
  try {
    compileReachable(dir, rel, files, staging, compiler.load());
    fs.renameSync(staging, target);
  } catch (err) {
    fs.rmSync(staging, { recursive: true, force: true });
    if (!fs.existsSync(compiled)) throw err;
  }
  pruneCache(cache, target);
  return { dir: target, entry: compiled };
}

/** Removes all but the newest compiles (and the one in use), so edits do not pile up copies. */
function pruneCache(cache: string, inUse: string): void {
  const entries = fs
    .readdirSync(cache, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith("staging-") && path.join(cache, e.name) !== inUse)
    .map((e) => ({ dir: path.join(cache, e.name), mtime: fs.statSync(path.join(cache, e.name)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const old of entries.slice(KEEP)) fs.rmSync(old.dir, { recursive: true, force: true });
}

/**
 * The program's own TypeScript compiler, if it has one, with its tsconfig.json's options for
 * CommonJS output (what ts-node would run). Loading the compiler costs ~0.5 s, so only on a compile.
 */
export function programTranspiler(dir: string): { version: string; load: () => Transpiler } | undefined {
  let pkg: string;
  try {
    pkg = require.resolve("typescript/package.json", { paths: [dir] });
  } catch {
    return undefined;
  }
  const version = String(JSON.parse(fs.readFileSync(pkg, "utf8")).version);
  return {
    version,
    load: () => {
      const ts: typeof import("typescript") = require(path.dirname(pkg));
      const configFile = path.join(dir, "tsconfig.json");
      const read = fs.existsSync(configFile) ? ts.readConfigFile(configFile, ts.sys.readFile) : { config: {} };
      if (read.error) throw new Error(`${configFile}: ${ts.flattenDiagnosticMessageText(read.error.messageText, "\n")}`);
      const { options } = ts.parseJsonConfigFileContent(read.config, ts.sys, dir);
      // CommonJS, as node runs it. No source maps: node's support for them (--enable-source-maps) made
      // loading and every stack trace the SDK takes slower; the compiled lines read close to the source.
      const { moduleResolution: _resolution, ...rest } = options;
      const compilerOptions = { ...rest, module: ts.ModuleKind.CommonJS, sourceMap: false, inlineSourceMap: false, declaration: false };
      return { transpile: (source, fileName) => ts.transpileModule(source, { compilerOptions, fileName }).outputText };
    },
  };
}
