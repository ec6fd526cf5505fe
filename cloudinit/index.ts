export * from "./meta-data";
export * from "./network-config";
export * from "./seed-iso";
export * from "./user-data";
