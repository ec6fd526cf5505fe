// The NoCloud meta-data: who the instance is.
import type * as pulumi from "@pulumi/pulumi";
import { HOST_LABEL } from "../model/identifiers";
import { misuse } from "./misuse";
import { toYaml } from "./yaml";

export interface MetaDataArgs {
  /**
   * cloud-init runs its once-per-instance steps (host keys, users, runcmd) again whenever this
   * changes; it also names a directory under /var/lib/cloud/instances/.
   */
  readonly instanceId: string;
  /** RFC 1123 label. */
  readonly hostname: string;
}

const INSTANCE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function metaData(args: MetaDataArgs, parent?: pulumi.Resource): string {
  if (!INSTANCE_ID.test(args.instanceId)) misuse(`instance id "${args.instanceId}" must be letters, digits, ".", "_" or "-"`, parent);
  if (!HOST_LABEL.test(args.hostname)) misuse(`hostname "${args.hostname}" is not a lowercase RFC 1123 label`, parent);
  return toYaml({ "instance-id": args.instanceId, "local-hostname": args.hostname });
}
