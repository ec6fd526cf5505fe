// The engine processes' code cache (engine/compile-cache.ts), in node processes of their own: it
// changes how every later module is compiled, which a test must not do to its own process.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toolsRoot } from "../../testbed/engine";
import { COMPILE_CACHE_OFF_ENV, cacheKey } from "../../engine/compile-cache";

const compileCache = path.join(toolsRoot, "engine", "compile-cache.js");

describe("the compile cache", () => {
  let dir: string;
  let cache: string;
  let app: string;

  // Loads app/main.js with the cache installed; prints what the modules saw.
  const run = (env: NodeJS.ProcessEnv = {}) => {
    const script = `require(${JSON.stringify(compileCache)}).installCompileCache(${JSON.stringify(cache)});
      console.log(JSON.stringify(require(${JSON.stringify(path.join(app, "main.js"))})));`;
    const r = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", env: { ...process.env, [COMPILE_CACHE_OFF_ENV]: "", ...env } });
    return { code: r.status, out: r.stdout.trim(), err: r.stderr };
  };
  const entries = () => (statSync(cache, { throwIfNoEntry: false }) ? readdirSync(cache).sort() : []);

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "vmc-compile-cache-"));
    cache = path.join(dir, "cache");
    app = path.join(dir, "app");
    mkdirSync(path.join(app, "lib"), { recursive: true });
    writeFileSync(
      path.join(app, "main.js"),
      `const helper = require("./lib/helper");
       module.exports = { sum: helper.add(2, 3), dir: __dirname, file: __filename, resolved: require.resolve("./lib/helper"),
         paths: Array.isArray(require.resolve.paths("x")), cached: require.cache[require.resolve("./lib/helper")] !== undefined,
         tool: require("./lib/tool"), stack: helper.where() };`,
    );
    writeFileSync(path.join(app, "lib", "helper.js"), `exports.add = (a, b) => a + b;\nexports.where = () => new Error("here").stack.split("\\n")[1];\n`);
    writeFileSync(path.join(app, "lib", "tool.js"), `#!/usr/bin/env node\nmodule.exports = "tool";\n`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("runs modules as Node does and keeps one entry per module", () => {
    const first = run();
    expect(first.code, first.err).toBe(0);
    const seen = JSON.parse(first.out);
    expect(seen).toMatchObject({
      sum: 5,
      dir: app,
      file: path.join(app, "main.js"),
      resolved: path.join(app, "lib", "helper.js"),
      paths: true,
      cached: true,
      tool: "tool",
    });
    // Stack traces still name the module's own file and line.
    expect(seen.stack).toContain(`${path.join(app, "lib", "helper.js")}:2:`);
    expect(entries()).toHaveLength(3);
  });

  it("uses the kept entries on the next start (and rewrites none), with the same results", () => {
    const before = Object.fromEntries(entries().map((e) => [e, statSync(path.join(cache, e)).mtimeMs]));
    const again = run();
    expect(again.code, again.err).toBe(0);
    expect(JSON.parse(again.out)).toMatchObject({ sum: 5, tool: "tool" });
    expect(Object.fromEntries(entries().map((e) => [e, statSync(path.join(cache, e)).mtimeMs]))).toEqual(before);
  });

  it("replaces an entry V8 rejects", () => {
    const file = path.join(cache, entries()[0]);
    writeFileSync(file, "not V8's cached data");
    const r = run();
    expect(r.code, r.err).toBe(0);
    expect(statSync(file).size).toBeGreaterThan("not V8's cached data".length);
  });

  it("keys entries by the module's text, so an edited module gets a new one", () => {
    const helper = path.join(app, "lib", "helper.js");
    const text = `exports.add = (a, b) => a + b + 1;\nexports.where = () => "";\n`;
    writeFileSync(helper, text);
    const r = run();
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).sum).toBe(6);
    expect(entries()).toContain(cacheKey(helper, text));
  });

  it("keeps each module's own file name in stack traces when another module has the same text", () => {
    const where = `module.exports = () => new Error("here").stack.split("\\n")[1];\n`;
    mkdirSync(path.join(app, "twin"), { recursive: true });
    writeFileSync(path.join(app, "lib", "where.js"), where);
    writeFileSync(path.join(app, "twin", "where.js"), where);
    const main = path.join(app, "main.js");
    const saved = readFileSync(main, "utf8");
    writeFileSync(main, `module.exports = { lib: require("./lib/where")(), twin: require("./twin/where")() };\n`);
    try {
      // The first run compiles both and keeps their data; the second compiles from it.
      for (const pass of ["compiled", "from the cache"]) {
        const r = run();
        expect(r.code, `${pass}: ${r.err}`).toBe(0);
        const seen = JSON.parse(r.out) as { lib: string; twin: string };
        expect(seen.lib, pass).toContain(path.join(app, "lib", "where.js"));
        expect(seen.twin, pass).toContain(path.join(app, "twin", "where.js"));
      }
    } finally {
      writeFileSync(main, saved);
    }
  });

  it("reports a syntax error as Node does", () => {
    writeFileSync(path.join(app, "lib", "tool.js"), "module.exports = ;\n");
    const r = run();
    expect(r.code).not.toBe(0);
    expect(r.err).toContain(path.join(app, "lib", "tool.js"));
    expect(r.err).toContain("SyntaxError: Unexpected token ';'");
  });

  it("stays off when asked to", () => {
    rmSync(cache, { recursive: true, force: true });
    writeFileSync(path.join(app, "lib", "tool.js"), `module.exports = "tool";\n`);
    const r = run({ [COMPILE_CACHE_OFF_ENV]: "1" });
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).tool).toBe("tool");
    expect(entries()).toEqual([]);
  });
});
