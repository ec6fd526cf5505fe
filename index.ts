// vm-cluster: read the stack config, validate it once, and build the cluster it describes.
import * as pulumi from "./provider/pulumi";
import { COMPILED_PROGRAM_ENV } from "./provider/dynamic-resource";
import { startProvider } from "./engine/start-provider";

// Run compiled (see engine/compiled-program.ts), the program has no source maps to apply, yet the
// SDK's cmd/run sends every stack trace through source-map-support, and the SDK takes one for each
// resource: ~0.25 s a run here. Node's own formatting gives the same lines.
if (process.env[COMPILED_PROGRAM_ENV]) delete (Error as { prepareStackTrace?: unknown }).prepareStackTrace;

// The provider process starts while the rest of the program loads (engine/start-provider.ts), so the
// program's modules are loaded only after that.
export = startProvider(pulumi.invoke).then(() => {
  const { Cluster, configWarnings, loadClusterModel } = require("./components") as typeof import("./components");
  const model = loadClusterModel(pulumi.runtime.allConfig());
  // The language host passes the engine's list of secret config keys in this variable.
  const secretKeys: string[] = JSON.parse(process.env.PULUMI_CONFIG_SECRET_KEYS ?? "[]");
  for (const warning of configWarnings(pulumi.runtime.allConfig(), secretKeys, pulumi.getStack())) void pulumi.log.warn(warning);
  const cluster = new Cluster(model.cluster, { model, project: pulumi.getProject(), stack: pulumi.getStack() });
  return {
    vms: cluster.outputs.vms,
    inventory: cluster.outputs.inventory,
    inventoryYaml: cluster.outputs.inventoryYaml,
    sshConfig: cluster.outputs.sshConfig,
    knownHosts: cluster.outputs.knownHosts,
    route: cluster.outputs.route,
    // Only with consolePassword: true; secret, so `pulumi stack output` shows it only with --show-secrets.
    ...(cluster.consolePassword !== undefined && { consolePassword: cluster.consolePassword }),
  };
});
