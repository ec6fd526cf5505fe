// The language host runs the program as JavaScript compiled once per state of its sources: which
// files count, when a compile is reused, what a compile contains, and that it runs.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CACHE_DIR, compiledProgram, entrySource, localRequires, programSources, programTranspiler, sourceKey } from "../../engine/compiled-program";
import { projectRoot } from "../../testbed/engine";

let dir: string;
const write = (rel: string, text: string) => {
  mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  writeFileSync(path.join(dir, rel), text);
};
// The project's own compiler, found from the temporary folder as a program finds its own.
const transpiler = () => programTranspiler(projectRoot);
const compiles = () => readdirSync(path.join(dir, CACHE_DIR)).filter((d) => !d.startsWith("staging-"));

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "vmc-compiled-"));
  write("tsconfig.json", JSON.stringify({ compilerOptions: { target: "es2022", module: "nodenext", moduleResolution: "nodenext", esModuleInterop: true } }));
  write("index.ts", 'import { greet } from "./lib/greet";\nexport const out: string = greet("world");\n');
  write("lib/greet.ts", 'import { shout } from "../shout";\nexport const greet = (who: string): string => shout(`hello ${who}`);\n');
  write("shout/index.ts", "export function shout(s: string): string {\n  return s.toUpperCase();\n}\n");
  write("test/greet.test.ts", "export const never: number = 1;\n");
  write("types.d.ts", "declare const x: number;\n");
  write("node_modules/dep/index.ts", "export {};\n");
  write(".hidden/a.ts", "export {};\n");
  write("dist/b.ts", "export {};\n");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("programSources", () => {
  it("lists every .ts source, sorted, without declarations, node_modules, dist and dot folders", () => {
    expect(programSources(dir)).toEqual(["index.ts", "lib/greet.ts", "shout/index.ts", "test/greet.test.ts"]);
  });
});

describe("sourceKey", () => {
  it("changes with a source's content, a file's name, tsconfig.json, package-lock.json and the compiler's version, and only then", () => {
    const files = programSources(dir);
    const key = sourceKey(dir, files, "5.9.3");
    expect(sourceKey(dir, files, "5.9.3")).toBe(key);
    expect(sourceKey(dir, files, "5.9.4")).not.toBe(key);
    write("lib/greet.ts", readFileSync(path.join(dir, "lib/greet.ts"), "utf8") + "// edited\n");
    const edited = sourceKey(dir, files, "5.9.3");
    expect(edited).not.toBe(key);
    write("tsconfig.json", JSON.stringify({ compilerOptions: { target: "es2020" } }));
    const retargeted = sourceKey(dir, files, "5.9.3");
    expect(retargeted).not.toBe(edited);
    write("package-lock.json", "{}");
    expect(sourceKey(dir, files, "5.9.3")).not.toBe(retargeted);
    expect(sourceKey(dir, [...files, "index.ts"].sort(), "5.9.3")).not.toBe(sourceKey(dir, files, "5.9.3"));
  });
});

describe("localRequires", () => {
  it("finds the relative modules TypeScript's CommonJS output requires, and no package", () => {
    const js =
      'const a = require("./a");\nconst b = __importStar(require("../b/c"));\nconst fs = require("node:fs");\nconst z = require("zod");\nrequire(\'./d\');';
    expect(localRequires(js)).toEqual(["./a", "../b/c", "./d"]);
  });
});

describe("compiledProgram", () => {
  it("compiles the entry and what it reaches once, reuses it while the sources stay, and runs as the program", () => {
    const compiled = compiledProgram(dir, "index.ts", transpiler);
    const root = path.join(dir, CACHE_DIR, compiles()[0]!);
    expect(compiled).toEqual({ dir: root, entry: path.join(root, "index.js") });
    const entry = compiled!.entry;
    // The test file is a source, but nothing the program loads.
    expect(existsSync(path.join(root, "lib/greet.js"))).toBe(true);
    expect(existsSync(path.join(root, "shout/index.js"))).toBe(true);
    expect(existsSync(path.join(root, "test/greet.test.js"))).toBe(false);
    const out = execFileSync(process.execPath, ["-e", `process.stdout.write(require(${JSON.stringify(entry)}).out)`], { encoding: "utf8" });
    expect(out).toBe("HELLO WORLD");

    // Reused: no second compile.
    expect(compiledProgram(dir, "index.ts", () => ({ version: transpiler()!.version, load: () => expect.fail("compiled again") }))).toEqual(compiled);

    // Edited: a compile of its own; the earlier one is kept for a run that may still use it.
    write("shout/index.ts", "export function shout(s: string): string {\n  return `${s}!`;\n}\n");
    const edited = compiledProgram(dir, "index.ts", transpiler)!.entry;
    expect(edited).not.toBe(entry);
    expect(compiles()).toHaveLength(2);
    expect(execFileSync(process.execPath, ["-e", `process.stdout.write(require(${JSON.stringify(edited)}).out)`], { encoding: "utf8" })).toBe("hello world!");
  });

  it("keeps only the newest few compiles", () => {
    for (let i = 0; i < 6; i++) {
      write("index.ts", `export const out = ${i};\n`);
      expect(compiledProgram(dir, "index.ts", transpiler)).toBeDefined();
    }
    expect(compiles()).toHaveLength(4);
  });

  it("finds the entry of the folder itself as cmd/run does: package.json's main, else index.ts", () => {
    expect(entrySource(dir, ".")).toBe("index.ts");
    write("package.json", JSON.stringify({ main: "lib/greet.ts" }));
    expect(entrySource(dir, ".")).toBe(path.join("lib", "greet.ts"));
    expect(compiledProgram(dir, ".", transpiler)?.entry).toMatch(/\/lib\/greet\.js$/);
    write("package.json", JSON.stringify({ main: "lib/greet.ts", exports: "./dist/index.js" }));
    expect(entrySource(dir, ".")).toBeUndefined();
  });

  it("leaves the program to ts-node when the entry is no .ts file of the folder or no compiler is installed", () => {
    write("package.json", JSON.stringify({ main: "index.js" }));
    expect(compiledProgram(dir, ".", transpiler)).toBeUndefined();
    expect(compiledProgram(dir, "../index.ts", transpiler)).toBeUndefined();
    expect(compiledProgram(dir, "missing.ts", transpiler)).toBeUndefined();
    expect(compiledProgram(dir, "index.ts", () => undefined)).toBeUndefined();
    expect(existsSync(path.join(dir, CACHE_DIR))).toBe(false);
  });

  it("leaves no half compile behind when compiling fails", () => {
    const failing = () => ({
      version: "x",
      load: () => ({
        transpile: () => {
          throw new Error("compiler broke");
        },
      }),
    });
    expect(() => compiledProgram(dir, "index.ts", failing)).toThrow("compiler broke");
    expect(readdirSync(path.join(dir, CACHE_DIR))).toEqual([]);
  });
});
