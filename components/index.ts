export * from "./cluster";
export * from "./stack-config";
export * from "./virtual-machine";
export * from "./vm-host";
