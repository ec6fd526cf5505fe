// vm-cluster as a library, for a Pulumi program of your own: `new Cluster(name, args)` makes the
// cluster the stack config would, with `args` typed and documented as ClusterArgs.
export { Cluster } from "./cluster";
export type { ClusterArgs } from "./cluster-args";
export type { ClusterOutputs } from "../components/cluster";
export type { VirtualMachineInfo } from "../components/virtual-machine";
