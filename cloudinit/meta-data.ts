// The NoCloud meta-data: who the instance is.
import { toYaml } from "./yaml";

export interface MetaDataArgs {
  /**
   * The domain's name. cloud-init runs its once-per-instance steps (host keys, users, runcmd) again whenever this
   * changes; it also names a directory under /var/lib/cloud/instances/.
   */
  readonly instanceId: string;
  /** The VM's name: an RFC 1123 label. */
  readonly hostname: string;
}

export function metaData(args: MetaDataArgs): string {
  return toYaml({ "instance-id": args.instanceId, "local-hostname": args.hostname });
}
