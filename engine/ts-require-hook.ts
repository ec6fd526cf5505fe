// Preloaded (node -r) into a program that runs compiled: a .ts module the compile left out (one the
// program requires at run time by a path outside its folder, as a test fixture may) is transpiled
// when it is required, as ts-node would have done. The TypeScript compiler is loaded only then.
import * as fs from "node:fs";
import type { Transpiler } from "./compiled-program";
import { programTranspiler } from "./compiled-program";

let transpiler: Transpiler | undefined;

function transpile(source: string, fileName: string): string {
  if (transpiler === undefined) {
    const found = programTranspiler(process.cwd());
    if (found === undefined) throw new Error(`cannot load ${fileName}: no TypeScript compiler is installed for the program in ${process.cwd()}`);
    transpiler = found.load();
  }
  return transpiler.transpile(source, fileName);
}

type CompilingModule = NodeJS.Module & { _compile(code: string, fileName: string): void };
const extensions = require.extensions as unknown as Record<string, (module: CompilingModule, fileName: string) => void>;
extensions[".ts"] ??= (module, fileName) => module._compile(transpile(fs.readFileSync(fileName, "utf8"), fileName), fileName);
