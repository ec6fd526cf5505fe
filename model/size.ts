// Disk sizes as qemu-img reads them: K, M, G and T are binary multiples (1024-based),
// so "35G" is 35 GiB, the same size the seed's `qemu-img resize ... 35G` made.
// "GiB" spellings are accepted too; "GB" is refused because it reads as decimal and
// would silently mean something else than the user wrote.

const MULTIPLIERS: Readonly<Record<string, number>> = {
  "": 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
};

/** Bytes for "35G", "35GiB", "512M", "1T", "1048576" or a plain number; undefined when unparseable. */
export function parseSize(input: string | number): number | undefined {
  if (typeof input === "number") return Number.isSafeInteger(input) && input >= 0 ? input : undefined;
  const match = /^([0-9]+)\s*(?:([kmgt])(?:ib)?)?$/i.exec(input.trim());
  if (!match) return undefined;
  const bytes = Number(match[1]) * MULTIPLIERS[(match[2] ?? "").toLowerCase()]!;
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}
