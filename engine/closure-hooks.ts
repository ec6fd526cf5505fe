// The SDK's cmd/run turns on the V8 inspector's debugger before it loads the program (its
// runtime/closure/v8Hooks), so that the closure serializer can map script ids to files. With the
// debugger on, every script compiled afterwards is slower: ~0.18 s of each preview of the 2-VM demo
// here, measured. Yet a run whose providers' code is kept (provider/dynamic-resource.ts) serializes
// nothing. So the program gets a stand-in for v8Hooks that turns the debugger on when the serializer
// first asks for it; turning it on then reports every script loaded before, so no file is missed.
import Module from "node:module";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Session } from "node:inspector";

/** The SDK's v8Hooks module beside cmd/run at `runPath` (the script the program's node runs). */
export function hooksPath(runPath: string): string {
  return path.resolve(path.dirname(runPath), "../../runtime/closure/v8Hooks.js");
}

/** The stand-in's exports: those of the SDK's v8Hooks, and whether the debugger is on yet. */
export interface ClosureHooks {
  isInitializedAsync(): Promise<void>;
  getSessionAsync(): Promise<Session>;
  getScriptUrl(id: string): string | undefined;
  debuggerOn(): boolean;
}

function lazyHooks(): ClosureHooks {
  const urls = new Map<string, string>();
  let session: Promise<Session> | undefined;
  const open = async (): Promise<Session> => {
    const inspector = require("node:inspector") as typeof import("node:inspector");
    const s = new inspector.Session();
    s.connect();
    // Listening before enabling: enabling reports each script already loaded.
    s.on("Debugger.scriptParsed", (event) => urls.set(event.params.scriptId, event.params.url));
    await new Promise<void>((resolve, reject) => s.post("Debugger.enable", (err) => (err ? reject(err) : resolve())));
    return s;
  };
  return {
    // cmd/run waits for this before it loads the program: nothing to wait for.
    isInitializedAsync: async () => undefined,
    getSessionAsync: () => (session ??= open()),
    getScriptUrl: (id) => urls.get(id),
    debuggerOn: () => session !== undefined,
  };
}

/** Puts the stand-in into the module cache in place of the SDK's v8Hooks, unless the SDK has none there or it is loaded. */
export function deferClosureHooks(runPath: string): ClosureHooks | undefined {
  const file = hooksPath(runPath);
  if (!fs.existsSync(file) || require.cache[file] !== undefined) return undefined;
  const standIn = new Module(file);
  standIn.filename = file;
  standIn.loaded = true;
  standIn.exports = lazyHooks();
  require.cache[file] = standIn;
  return standIn.exports as ClosureHooks;
}
