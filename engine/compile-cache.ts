// A V8 code cache for the CommonJS modules of our engine processes (language host, provider host,
// program). Each `pulumi preview` starts them anew and they load the same ~10 MB of JavaScript
// every time (the SDK, gRPC, protobuf, zod, our compiled program, the providers' serialized code);
// compiling it is most of their start. Node 22 has this built in (module.enableCompileCache); on
// Node 20 we keep V8's cached data ourselves, keyed by each module's source text.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import Module from "node:module";
import * as path from "node:path";
import * as vm from "node:vm";

/** Turns the cache off (any value but empty): to compare, or to rule it out. */
export const COMPILE_CACHE_OFF_ENV = "VM_CLUSTER_NO_COMPILE_CACHE";
/** The cache is emptied when it grows past this (edits of the program leave old entries behind). */
export const MAX_CACHE_BYTES = 128 * 1024 * 1024;

type CompilingModule = NodeJS.Module & { _compile(content: string, filename: string): unknown };
interface ModuleStatics {
  prototype: CompilingModule;
  wrap(content: string): string;
  _resolveFilename(request: string, parent: NodeJS.Module, isMain: boolean, options?: { paths?: string[] }): string;
  _resolveLookupPaths(request: string, parent: NodeJS.Module): string[] | null;
  _extensions: NodeJS.RequireExtensions;
  _cache: NodeJS.Dict<NodeJS.Module>;
  enableCompileCache?: (dir: string) => unknown;
}
const Modules = Module as unknown as ModuleStatics;
const INSTALLED = Symbol.for("vm-cluster.compile-cache");

/** Where the engine processes keep the cache: beside them in .tools/, one folder per Node.js build. */
export function defaultCacheDir(engineDir: string): string {
  return path.join(engineDir, "..", "compile-cache", `${process.version}-${process.arch}`);
}

/**
 * The cache file of a module's source text at `filename`. The file's name is part of the key: V8's
 * cached data carries the name of the script it was made from, and two modules of the same text
 * (a copy of a file, a package installed twice) would otherwise name each other in stack traces.
 */
export function cacheKey(filename: string, content: string): string {
  return crypto.createHash("sha256").update(filename).update("\0").update(content).digest("hex").slice(0, 40);
}

/**
 * Compiles every CommonJS module loaded from now on with cached data from `dir` when there is some,
 * and writes what was compiled without it when the process exits. A cache that cannot be read or
 * written costs nothing but the time it would have saved.
 */
export function installCompileCache(dir: string, env: NodeJS.ProcessEnv = process.env): void {
  const marked = globalThis as unknown as Record<symbol, boolean>;
  if (env[COMPILE_CACHE_OFF_ENV] || marked[INSTALLED]) return;
  marked[INSTALLED] = true;
  if (typeof Modules.enableCompileCache === "function") {
    Modules.enableCompileCache(dir);
    return;
  }
  // Without this loader a module's dynamic import() would fail; such a Node keeps its own compile.
  const importLoader = (vm.constants as unknown as { USE_MAIN_CONTEXT_DEFAULT_LOADER?: symbol } | undefined)?.USE_MAIN_CONTEXT_DEFAULT_LOADER;
  if (importLoader === undefined) return;
  const unsaved = new Map<string, vm.Script>();
  const compile = Modules.prototype._compile;
  Modules.prototype._compile = function (this: CompilingModule, content: string, filename: string) {
    // A hashbang line is valid only at the very start of a script, not inside the module wrapper.
    const source = content.startsWith("#!") ? `//${content.slice(2)}` : content;
    const file = path.join(dir, cacheKey(filename, source));
    let cachedData: Buffer | undefined;
    try {
      cachedData = fs.readFileSync(file);
    } catch {
      // not cached yet
    }
    let script: vm.Script;
    try {
      script = new vm.Script(Modules.wrap(source), { filename, cachedData, importModuleDynamically: importLoader as never });
    } catch {
      // A syntax error: let Node's own compile report it as it would.
      return compile.call(this, content, filename);
    }
    if (cachedData === undefined || script.cachedDataRejected) unsaved.set(file, script);
    const wrapper = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => unknown;
    return wrapper.call(this.exports, this.exports, requireFor(this), this, filename, path.dirname(filename));
  };
  // At exit the scripts hold the functions compiled while running too, so the next start skips those.
  process.once("exit", () => saveAll(dir, unsaved));
}

/** `require` as Node gives a module: resolving from it, with resolve, resolve.paths, main, cache. */
function requireFor(mod: NodeJS.Module): NodeJS.Require {
  const require = ((id: string) => mod.require(id)) as NodeJS.Require;
  const resolve = ((request: string, options?: { paths?: string[] }) => Modules._resolveFilename(request, mod, false, options)) as NodeJS.RequireResolve;
  resolve.paths = (request: string) => Modules._resolveLookupPaths(request, mod);
  require.resolve = resolve;
  require.main = process.mainModule;
  require.extensions = Modules._extensions;
  require.cache = Modules._cache;
  return require;
}

function saveAll(dir: string, unsaved: Map<string, vm.Script>): void {
  if (unsaved.size === 0) return;
  try {
    fs.mkdirSync(dir, { recursive: true });
    if (folderBytes(dir) > MAX_CACHE_BYTES) {
      for (const name of fs.readdirSync(dir)) fs.rmSync(path.join(dir, name), { force: true });
    }
    for (const [file, script] of unsaved) {
      const staging = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(staging, script.createCachedData());
      fs.renameSync(staging, file);
    }
  } catch {
    // A read-only or full disk: the next start compiles again.
  }
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const name of fs.readdirSync(dir)) total += fs.statSync(path.join(dir, name), { throwIfNoEntry: false })?.size ?? 0;
  return total;
}
