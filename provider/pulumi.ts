// The parts of the Pulumi SDK this project uses, each from its own module. The package's index also
// loads the Automation API and the closure serializer (a TypeScript compiler, npm's arborist): ~0.5 s
// of every program run on our machines, for code a run of ours never calls (DynamicResource loads the
// serializer itself when it has to serialize). Import this as `pulumi` instead of "@pulumi/pulumi".
export { ComponentResource, CustomResource, Resource } from "@pulumi/pulumi/resource";
export type { ComponentResourceOptions, CustomResourceOptions } from "@pulumi/pulumi/resource";
export { all, output, secret, Output } from "@pulumi/pulumi/output";
export type { Input, Inputs } from "@pulumi/pulumi/output";
export { getProject, getStack } from "@pulumi/pulumi/metadata";
export { RunError } from "@pulumi/pulumi/errors";
export * as log from "@pulumi/pulumi/log";
export * as dynamic from "@pulumi/pulumi/dynamic";
export * as runtime from "@pulumi/pulumi/runtime/config";
export { invoke } from "@pulumi/pulumi/runtime/invoke";
