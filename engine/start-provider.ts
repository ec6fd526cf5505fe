// The engine starts the dynamic-provider process (provider-host.ts) only when the program first asks
// something of it, and the program asks only once it has loaded its modules, read its config and
// built its resources. Each took ~0.25 s here, one after the other, in every pass (twice per
// `pulumi up`). So one invoke is sent first, which makes the engine start the provider while the
// program loads; our provider host answers it with nothing. Our language host sends it as it starts
// the program, when the project asks for it (runtime option `startDynamicProvider`): ~0.3 s before
// the program itself could, since its node and the SDK start first. The program sends it too, for
// the language hosts that do not.
import * as path from "node:path";

/** The invoke the program sends first: package pulumi-nodejs, so it goes to the default dynamic provider. */
export const START_PROVIDER_TOKEN = "pulumi-nodejs:vm-cluster:startProvider";

type Invoke = (token: string, args: Record<string, never>) => Promise<unknown>;

/**
 * Sends the invoke and resolves once it has left (not once it is answered), so the caller can go
 * on loading. A failure is not reported here: the first resource reports why its provider did not start.
 */
export async function startProvider(invoke: Invoke): Promise<void> {
  invoke(START_PROVIDER_TOKEN, {}).catch(() => undefined);
  // The SDK prepares the request over a few promise turns and gRPC writes it on a later turn of the
  // event loop; the caller's module loading would otherwise hold it back.
  await new Promise((resolve) => setTimeout(resolve, 1));
}

/** Whether the project's runtime options (Pulumi.yaml) ask the language host to start the provider. */
export function startsDynamicProvider(options: Record<string, unknown> | undefined): boolean {
  return options?.startDynamicProvider === true;
}

/**
 * Sends the invoke to the engine's resource monitor at `monitorAddress`, as the program would, with
 * the protocol stubs of the SDK installed for folder `from`. Its answer is not waited for, nor is a
 * failure reported: the program sends it again, and its first resource reports what went wrong.
 */
export function sendStartInvoke(monitorAddress: string, from: string): void {
  const load = (id: string) => require(require.resolve(id, { paths: [from] }));
  const grpc = load("@grpc/grpc-js") as typeof import("@grpc/grpc-js");
  const { ResourceMonitorClient } = load("@pulumi/pulumi/proto/resource_grpc_pb");
  const { ResourceInvokeRequest } = load("@pulumi/pulumi/proto/resource_pb");
  const { Struct } = load("google-protobuf/google/protobuf/struct_pb");
  const client = new ResourceMonitorClient(monitorAddress, grpc.credentials.createInsecure());
  const req = new ResourceInvokeRequest();
  req.setTok(START_PROVIDER_TOKEN);
  req.setArgs(new Struct());
  client.invoke(req, () => client.close());
}

interface InvokeCall {
  request: { getTok(): string };
}
type Callback = (err: Error | null, response?: unknown) => void;
interface ProviderService {
  invoke(call: InvokeCall, callback: Callback): unknown;
}

/**
 * Makes the SDK's dynamic-provider server at `server` answer START_PROVIDER_TOKEN with an empty
 * result; every other invoke goes to the SDK as before (which knows no functions).
 */
export function answerStartProvider(server: string): void {
  const sdkRoot = path.resolve(path.dirname(server), "../..");
  const grpc = require(require.resolve("@grpc/grpc-js", { paths: [sdkRoot] })) as {
    Server: { prototype: { addService(service: unknown, impl: ProviderService): void } };
  };
  const { InvokeResponse } = require(path.join(sdkRoot, "proto/provider_pb.js")) as { InvokeResponse: new () => unknown };
  const addService = grpc.Server.prototype.addService;
  grpc.Server.prototype.addService = function (service, impl) {
    const invoke = impl.invoke;
    impl.invoke = function (call, callback) {
      if (call.request.getTok() === START_PROVIDER_TOKEN) return callback(null, new InvokeResponse());
      return invoke.call(this, call, callback);
    };
    return addService.call(this, service, impl);
  };
}
