// The Cluster component for another Pulumi program: the stack config's keys as typed args, checked
// when it is constructed. It is the stack program's own component (same type, same children), so a
// program that builds a cluster through it plans what `pulumi up` of the stack would.
import * as pulumi from "../provider/pulumi";
import { Cluster as ClusterComponent } from "../components/cluster";
import { checkedModel, defaultIo } from "../components/stack-config";
import type { ClusterArgs } from "./cluster-args";

export class Cluster extends ClusterComponent {
  /**
   * Throws before any resource registers when `args` have a problem, with every problem named by its
   * key (`args.network.cidr: ...`). Paths (`file:` keys) are read on the machine that runs Pulumi.
   */
  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    const model = checkedModel({ ...args }, defaultIo, { keyPrefix: "args.", name: "args" }, `the ClusterArgs of "${name}"`);
    super(name, { model, project: pulumi.getProject(), stack: pulumi.getStack() }, opts);
  }
}
