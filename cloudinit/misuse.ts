// Arguments that break an invariant are a bug in the caller; the error points at its resource.
import * as pulumi from "@pulumi/pulumi";

export function misuse(message: string, parent: pulumi.Resource | undefined): never {
  throw new pulumi.ResourceError(`cloud-init: ${message}`, parent);
}
