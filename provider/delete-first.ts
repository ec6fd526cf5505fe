// Options of a resource that is one named object on the VM host or this machine (a volume, a
// domain, a network, a rule set, a file): two cannot exist side by side, so a replacement deletes
// the old one first. The providers' diffs say so too, but the engine does not ask the diff of a
// resource named by `pulumi up --replace`: without this it would make the new one first, under the
// same name, and then delete it as the old one.
import type * as pulumi from "./pulumi";

export function deleteFirst(opts?: pulumi.CustomResourceOptions): pulumi.CustomResourceOptions {
  return { ...opts, deleteBeforeReplace: true };
}
