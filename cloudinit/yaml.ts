// Serialization of the NoCloud documents. cloud-init reads them with PyYAML, a YAML 1.1 parser:
// emitting 1.1 makes the library quote strings that 1.1 would read as something else, such as an
// all-digit MAC address (a base-60 integer in 1.1) or "on"/"yes" (booleans).
import { stringify } from "yaml";

export function toYaml(value: unknown): string {
  // No folding: keys, hashes and commands stay on one line, as a person would grep for them.
  return stringify(value, { version: "1.1", lineWidth: 0 });
}
