// pulumi-resource-pulumi-nodejs of our own: the process the engine starts to serve dynamic
// providers, once per pass (twice per `pulumi up`). It runs @pulumi/pulumi's own
// `cmd/dynamic-provider`, so the protocol is the SDK's, but keeps that server from loading the SDK's
// runtime index at start: the index brings in the closure serializer (the TypeScript compiler and
// npm's arborist, ~0.4 s of every start on 2 cores), which serving a provider never uses. Of the
// index the server reads only `grpcChannelOptions`; anything else asked of it loads it for real.
import Module from "node:module";
import * as path from "node:path";
import { answerStartProvider } from "./start-provider";

const SERVER = "@pulumi/pulumi/cmd/dynamic-provider";

/** The SDK of the project being run (the engine starts us in its folder), else our own. */
export function resolveServer(cwd: string, ownRoot: string): string {
  for (const from of [cwd, ownRoot]) {
    try {
      return require.resolve(SERVER, { paths: [from] });
    } catch {
      // not installed there: try the next place
    }
  }
  throw new Error(`${SERVER} is not installed in ${cwd} or ${ownRoot}: run the project's setup (npm ci) first`);
}

/**
 * Puts a stand-in for the SDK's runtime index into the module cache beside `server`. The stand-in
 * answers `grpcChannelOptions` from the SDK's settings module; any other use loads the real index
 * (which then replaces the stand-in in the cache), so code that needs the whole runtime still gets it.
 */
export function deferRuntimeIndex(server: string): void {
  const sdkRoot = path.resolve(path.dirname(server), "../..");
  const indexPath = require.resolve(path.join(sdkRoot, "runtime/index.js"));
  const settingsPath = require.resolve(path.join(sdkRoot, "runtime/settings.js"));
  if (require.cache[indexPath] !== undefined) return;
  let real: object | undefined;
  const load = (): object => {
    if (real === undefined) {
      delete require.cache[indexPath];
      real = require(indexPath) as object;
    }
    return real;
  };
  const exports = new Proxy(
    {},
    {
      get: (_target, key) => {
        if (key === "__esModule") return true;
        if (key === "grpcChannelOptions" && real === undefined) return (require(settingsPath) as { grpcChannelOptions: unknown }).grpcChannelOptions;
        return Reflect.get(load(), key);
      },
      has: (_target, key) => Reflect.has(load(), key),
      ownKeys: () => Reflect.ownKeys(load()),
      getOwnPropertyDescriptor: (_target, key) => {
        const found = Reflect.getOwnPropertyDescriptor(load(), key);
        // A proxy may only report a property as configurable when its (empty) target lacks it.
        return found === undefined ? undefined : { ...found, configurable: true };
      },
    },
  );
  const standIn = new Module(indexPath);
  standIn.filename = indexPath;
  standIn.loaded = true;
  standIn.exports = exports;
  require.cache[indexPath] = standIn;
}

if (require.main === module) {
  const server = resolveServer(process.cwd(), path.resolve(__dirname, "../.."));
  deferRuntimeIndex(server);
  answerStartProvider(server);
  // The server, and the providers' code in it, see the argv they would have had if the engine had
  // started the SDK's server itself: the engine's address after it, and the server as the script
  // (the providers' process guard, transport/process-guard.ts, knows its process by that).
  process.argv[1] = server;
  require(server);
}
