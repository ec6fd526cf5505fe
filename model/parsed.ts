/** Result of parsing one user-supplied value: the value, or why it is wrong (for a message). */
export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };
