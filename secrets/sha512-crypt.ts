// glibc's SHA-512 crypt ("$6$", Ulrich Drepper's "Unix crypt using SHA-256 and SHA-512"), the hash
// cloud-init's hashed_passwd hands to /etc/shadow. Written here because node:crypto has only the
// digest. This module is serialized into state with the console password provider: constants are
// strings, numbers and arrays only; Buffers are made inside the functions.
import { createHash } from "node:crypto";

const PREFIX = "$6$";
const ROUNDS_PREFIX = "rounds=";
const DEFAULT_ROUNDS = 5000;
const MIN_ROUNDS = 1000;
const MAX_ROUNDS = 999_999_999;
const MAX_SALT = 16;
/** crypt's base64 alphabet, also the characters a salt is drawn from. */
export const CRYPT_ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
// The spec's byte order for the final encoding: each triple becomes four characters.
const TRIPLES = [
  [0, 21, 42],
  [22, 43, 1],
  [44, 2, 23],
  [3, 24, 45],
  [25, 46, 4],
  [47, 5, 26],
  [6, 27, 48],
  [28, 49, 7],
  [50, 8, 29],
  [9, 30, 51],
  [31, 52, 10],
  [53, 11, 32],
  [12, 33, 54],
  [34, 55, 13],
  [56, 14, 35],
  [15, 36, 57],
  [37, 58, 16],
  [59, 17, 38],
  [18, 39, 60],
  [40, 61, 19],
  [62, 20, 41],
];

const sha512 = (...parts: Buffer[]): Buffer => {
  const hash = createHash("sha512");
  for (const part of parts) hash.update(part);
  return hash.digest();
};

/** `source` repeated to exactly `length` bytes. */
function stretch(source: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += source.length) source.copy(out, i, 0, Math.min(source.length, length - i));
  return out;
}

function encode24(b2: number, b1: number, b0: number, chars: number): string {
  let w = (b2 << 16) | (b1 << 8) | b0;
  let out = "";
  for (let i = 0; i < chars; i++, w >>= 6) out += CRYPT_ALPHABET[w & 0x3f];
  return out;
}

/**
 * crypt(3) of `password` with a `$6$` setting: `$6$salt`, `$6$rounds=N$salt`, or a whole hash (whose
 * salt and rounds are reused, so `sha512Crypt(pw, hash) === hash` verifies). As glibc does, the salt is
 * cut to 16 characters and rounds are clamped to 1000–999999999.
 */
export function sha512Crypt(password: string, setting: string): string {
  if (!setting.startsWith(PREFIX)) throw new Error(`"${setting}" is not a SHA-512 crypt setting ($6$…)`);
  let rest = setting.slice(PREFIX.length);
  let rounds = DEFAULT_ROUNDS;
  let roundsGiven = false;
  const roundsMatch = /^rounds=(\d+)\$/.exec(rest);
  if (roundsMatch) {
    rounds = Math.min(MAX_ROUNDS, Math.max(MIN_ROUNDS, Number(roundsMatch[1])));
    roundsGiven = true;
    rest = rest.slice(roundsMatch[0].length);
  }
  const saltText = rest.split("$")[0].slice(0, MAX_SALT);

  const p = Buffer.from(password, "utf8");
  const s = Buffer.from(saltText, "utf8");

  // Digest A over password, salt, and B (password, salt, password) by the password's length bits.
  const b = sha512(p, s, p);
  const a = createHash("sha512").update(p).update(s).update(stretch(b, p.length));
  for (let n = p.length; n > 0; n >>= 1) a.update(n & 1 ? b : p);
  let c = a.digest();

  // P and S sequences: the password, and the salt repeated 16 + A[0] times, each hashed and stretched.
  const pSeq = stretch(sha512(...Array<Buffer>(p.length).fill(p)), p.length);
  const sSeq = stretch(sha512(...Array<Buffer>(16 + c[0]).fill(s)), s.length);

  for (let i = 0; i < rounds; i++) {
    const round = createHash("sha512");
    round.update(i & 1 ? pSeq : c);
    if (i % 3 !== 0) round.update(sSeq);
    if (i % 7 !== 0) round.update(pSeq);
    round.update(i & 1 ? c : pSeq);
    c = round.digest();
  }

  const encoded = TRIPLES.map(([x, y, z]) => encode24(c[x], c[y], c[z], 4)).join("") + encode24(0, 0, c[63], 2);
  return `${PREFIX}${roundsGiven ? `${ROUNDS_PREFIX}${rounds}$` : ""}${saltText}$${encoded}`;
}
