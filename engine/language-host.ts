// pulumi-language-nodejs of our own: the official Node.js language host cannot be had from our
// registries, and the engine needs one to run `pulumi preview/up/destroy` in a project folder.
// It serves the LanguageRuntime gRPC service and runs the program through @pulumi/pulumi's own
// `cmd/run`, the way the official host does, so the SDK sees the same flags and environment.
import { spawn, type ChildProcess } from "node:child_process";
import * as grpc from "@grpc/grpc-js";
import * as emptyPb from "google-protobuf/google/protobuf/empty_pb";
import { programCommand, runOutcome, type RunRequestFields } from "./run-command";
import { COMPILED_PROGRAM_ENV, compiledProgram, programTranspiler } from "./compiled-program";
import { sendStartInvoke, startsDynamicProvider } from "./start-provider";

// The stubs ship inside @pulumi/pulumi without type declarations for their paths; load them at run time.
const languageGrpc = require("@pulumi/pulumi/proto/language_grpc_pb");
const languagePb = require("@pulumi/pulumi/proto/language_pb");
const pluginPb = require("@pulumi/pulumi/proto/plugin_pb");
const sdkVersion: string = require("@pulumi/pulumi/package.json").version;

type Callback = grpc.sendUnaryData<unknown>;

/** Programs running now, stopped with us when the engine goes away. */
const programs = new Set<ChildProcess>();
type Call = grpc.ServerUnaryCall<any, unknown>; // eslint-disable-line @typescript-eslint/no-explicit-any

const unimplemented = (name: string) => (_call: Call, cb: Callback) =>
  cb({ code: grpc.status.UNIMPLEMENTED, details: `${name} is not supported by vm-cluster's language host` });

/** The engine passes its own address as the last plain argument; flags such as -root=... come first. */
function engineAddressFromArgv(argv: string[]): string {
  const plain = argv.filter((a) => !a.startsWith("-"));
  return plain.length > 0 ? plain[plain.length - 1] : "";
}

function main(): void {
  let engineAddress = engineAddressFromArgv(process.argv.slice(2));
  const server = new grpc.Server();

  server.addService(languageGrpc.LanguageRuntimeService, {
    handshake(call: Call, cb: Callback) {
      engineAddress = call.request.getEngineAddress() || engineAddress;
      cb(null, new languagePb.LanguageHandshakeResponse());
    },
    getPluginInfo(_call: Call, cb: Callback) {
      const info = new pluginPb.PluginInfo();
      info.setVersion(sdkVersion);
      cb(null, info);
    },
    // The program needs no resource plugin: every resource is a dynamic provider, whose launcher
    // the engine finds by itself.
    getRequiredPlugins(_call: Call, cb: Callback) {
      cb(null, new languagePb.GetRequiredPluginsResponse());
    },
    getRequiredPackages(_call: Call, cb: Callback) {
      cb(null, new languagePb.GetRequiredPackagesResponse());
    },
    installDependencies(call: grpc.ServerWritableStream<unknown, unknown>) {
      // Dependencies are installed by the project's setup (npm ci), never from here.
      call.end();
    },
    getProgramDependencies(_call: Call, cb: Callback) {
      cb(null, new languagePb.GetProgramDependenciesResponse());
    },
    about(_call: Call, cb: Callback) {
      const res = new languagePb.AboutResponse();
      res.setExecutable(process.execPath);
      res.setVersion(process.version);
      cb(null, res);
    },
    run(call: Call, cb: Callback) {
      const req = call.request;
      const info = req.getInfo();
      const fields: RunRequestFields = {
        monitorAddress: req.getMonitorAddress(),
        engineAddress,
        project: req.getProject(),
        stack: req.getStack(),
        pwd: req.getPwd(),
        organization: req.getOrganization(),
        rootDirectory: info?.getRootDirectory() ?? "",
        programDirectory: info?.getProgramDirectory() || req.getPwd(),
        entryPoint: info?.getEntryPoint() || req.getProgram() || ".",
        dryRun: req.getDryrun(),
        parallel: req.getParallel(),
        args: req.getArgsList(),
        config: Object.fromEntries(req.getConfigMap().toArray() as [string, string][]),
        configSecretKeys: req.getConfigsecretkeysList(),
        typescript: typescriptOption(info?.getOptions()?.toJavaScript()),
      };
      let cmd;
      try {
        // Compiled JavaScript instead of ts-node, unless asked to type-check (PULUMI_NODEJS_TRANSPILE_ONLY=false).
        const compiled =
          fields.typescript && process.env.PULUMI_NODEJS_TRANSPILE_ONLY !== "false"
            ? compiledProgram(fields.programDirectory, fields.entryPoint, programTranspiler)
            : undefined;
        if (compiled !== undefined) Object.assign(fields, { entryPoint: compiled.entry, typescript: false });
        const env = { ...process.env, [COMPILED_PROGRAM_ENV]: compiled?.dir };
        cmd = programCommand(fields, env, (id, from) => require.resolve(id, { paths: [from] }));
        // A .ts module the compile left out is still loaded, transpiled when required.
        if (compiled !== undefined) cmd.args.unshift("-r", require.resolve("./ts-require-hook"));
        cmd.args.unshift("-r", require.resolve("./closure-hooks-preload"));
        cmd.args.unshift("-r", require.resolve("./compile-cache-preload"));
      } catch (err) {
        const res = new languagePb.RunResponse();
        res.setError((err as Error).message);
        cb(null, res);
        return;
      }
      const child = spawn(process.execPath, cmd.args, {
        cwd: fields.pwd || undefined,
        env: cmd.env,
        stdio: ["ignore", "inherit", "inherit"],
      });
      programs.add(child);
      child.on("exit", () => programs.delete(child));
      // While the program's node and SDK start (engine/start-provider.ts).
      if (startsDynamicProvider(info?.getOptions()?.toJavaScript())) {
        try {
          sendStartInvoke(fields.monitorAddress, fields.programDirectory);
        } catch {
          // Only time is lost: the program sends it again.
        }
      }
      const reply = (outcome: { error: string; bail: boolean }) => {
        const res = new languagePb.RunResponse();
        res.setError(outcome.error);
        res.setBail(outcome.bail);
        cb(null, res);
      };
      child.on("error", (err) => reply({ error: `could not start node: ${err.message}`, bail: false }));
      child.on("exit", (code, signal) => reply(runOutcome(code, signal)));
    },
    getRequiredPackagesDeprecated: unimplemented("GetRequiredPackagesDeprecated"),
    runtimeOptionsPrompts(_call: Call, cb: Callback) {
      cb(null, new languagePb.RuntimeOptionsResponse());
    },
    template: unimplemented("Template"),
    runPlugin: unimplemented("RunPlugin"),
    generateProgram: unimplemented("GenerateProgram"),
    generateProject: unimplemented("GenerateProject"),
    generatePackage: unimplemented("GeneratePackage"),
    pack: unimplemented("Pack"),
    link: unimplemented("Link"),
    cancel(_call: Call, cb: Callback) {
      cb(null, new emptyPb.Empty());
    },
  });

  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) {
      process.stderr.write(`pulumi-language-nodejs: cannot listen: ${err.message}\n`);
      process.exit(1);
    }
    // The engine reads the port from our first line of output.
    process.stdout.write(`${port}\n`);
  });
}

/** Pulumi.yaml `runtime.options.typescript`: on unless set to false. */
function typescriptOption(options: Record<string, unknown> | undefined): boolean {
  return options?.typescript !== false;
}

/**
 * The engine starts us and normally stops us; a `pulumi` killed with SIGKILL cannot, and we would
 * stay behind idle. Our parent going away (we are re-parented) means the engine is gone.
 */
function exitWithParent(): void {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) {
      // The program we run cannot report to a gone engine either.
      for (const child of programs) child.kill("SIGTERM");
      process.exit(0);
    }
  }, 1000).unref();
}

if (require.main === module) {
  exitWithParent();
  main();
}

export { engineAddressFromArgv };
