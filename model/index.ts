export * from "./cluster-model";
export * from "./config";
export { type ConfigIo, expandHome } from "./config-io";
export * from "./defaults";
export * from "./ipv4";
export * from "./mac";
export * from "./names";
export { parseSize } from "./size";
export { type HostKeyPin, type PublicKey, parsePublicKey, sha256Fingerprint } from "./ssh-key";
