export * from "./commands";
export * from "./inventory";
export * from "./known-hosts";
export * from "./ssh-config";
