// zod's strict object, with a message that lists the keys allowed, so a typo is easy to fix.
import { z } from "zod";

export function strictObject<S extends z.ZodRawShape>(shape: S) {
  const allowed = Object.keys(shape).join(", ");
  return z.strictObject(shape, {
    error: (issue) => (issue.code === "unrecognized_keys" ? `unknown key; the keys allowed here are ${allowed}` : undefined),
  });
}
