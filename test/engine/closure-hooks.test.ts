// The program's stand-in for the SDK's closure hooks (engine/closure-hooks.ts): the debugger stays off
// until the closure serializer asks for it, and then the serializer still finds the file of a
// function loaded before (turning the debugger on reports every script already loaded).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { projectRoot, toolsRoot } from "../../testbed/engine";
import { deferClosureHooks } from "../../engine/closure-hooks";

const dir = mkdtempSync(path.join(tmpdir(), "vmc-closure-hooks-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Runs in its own node (the stand-in goes into that process's module cache), as the program's would.
const SCRIPT = `
const { deferClosureHooks } = require(${JSON.stringify(path.join(toolsRoot, "engine", "closure-hooks.js"))});
const runPath = require.resolve("@pulumi/pulumi/cmd/run", { paths: [${JSON.stringify(projectRoot)}] });
const hooks = deferClosureHooks(runPath);
const { greet } = require(${JSON.stringify(path.join(dir, "greet.js"))});
(async () => {
  const sdk = (m) => require(require.resolve("@pulumi/pulumi/runtime/closure/" + m, { paths: [${JSON.stringify(projectRoot)}] }));
  await sdk("v8Hooks").isInitializedAsync();
  const offAtStart = !hooks.debuggerOn();
  const { text } = await sdk("serializeClosure").serializeFunction(() => greet);
  const { file } = await sdk("v8").getFunctionLocationAsync(greet);
  console.log(JSON.stringify({ offAtStart, onAfter: hooks.debuggerOn(), file, text }));
})();
`;

describe("the closure hooks' stand-in", () => {
  it("turns the debugger on only when the serializer asks, and maps scripts loaded before", () => {
    writeFileSync(path.join(dir, "greet.js"), 'exports.greet = (name) => "hello " + name + " from greet.js";\n');
    writeFileSync(path.join(dir, "main.js"), SCRIPT);
    const r = spawnSync(process.execPath, [path.join(dir, "main.js")], { cwd: projectRoot, encoding: "utf8", timeout: 60_000 });
    expect(r.stderr).toBe("");
    const out = JSON.parse(r.stdout) as { offAtStart: boolean; onAfter: boolean; file: string; text: string };
    expect(out.offAtStart).toBe(true);
    expect(out.onAfter).toBe(true);
    expect(out.file).toBe(`file://${path.join(dir, "greet.js")}`);
    expect(out.text).toContain('"hello " + name + " from greet.js"');
  });

  it("leaves an SDK without v8Hooks at that place alone", () => {
    expect(deferClosureHooks(path.join(dir, "no-sdk", "cmd", "run", "index.js"))).toBeUndefined();
  });
});
