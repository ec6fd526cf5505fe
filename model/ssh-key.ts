// OpenSSH public keys, host key pins and private key recognition.
import { createHash } from "node:crypto";
import type { Parsed } from "./parsed";

export interface PublicKey {
  readonly type: string;
  /** The key blob, base64 as in authorized_keys. */
  readonly base64: string;
  /** `type base64 [comment]`, one line. */
  readonly line: string;
}

/** What the VM host must present: always a fingerprint, plus the key when we were given it. */
export interface HostKeyPin {
  /** OpenSSH form, `SHA256:` + unpadded base64. */
  readonly sha256Fingerprint: string;
  readonly publicKey?: PublicKey;
}

// Supported key types and how many length-prefixed fields their blob holds.
const FIELD_COUNT: Readonly<Record<string, number>> = {
  "ssh-ed25519": 2, // type, key
  "ssh-rsa": 3, // type, e, n
  "ecdsa-sha2-nistp256": 3, // type, curve, point
  "ecdsa-sha2-nistp384": 3,
  "ecdsa-sha2-nistp521": 3,
  "sk-ssh-ed25519@openssh.com": 3, // type, key, application
  "sk-ecdsa-sha2-nistp256@openssh.com": 4, // type, curve, point, application
};

const KEY_TYPES_TEXT = "ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256/384/521, sk-ssh-ed25519@openssh.com or sk-ecdsa-sha2-nistp256@openssh.com";

export function looksLikePrivateKey(text: string): boolean {
  return /-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----/.test(text);
}

/** One public key line, checked down to the structure of its blob. */
export function parsePublicKey(text: string): Parsed<PublicKey> {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  if (lines.length === 0) return { ok: false, reason: "it is empty" };
  if (looksLikePrivateKey(text)) return { ok: false, reason: "it is a PRIVATE key; give the public one (the .pub file)" };
  if (lines.length > 1) return { ok: false, reason: `it holds ${lines.length} lines; give exactly one public key` };
  const [type = "", base64 = "", ...comment] = lines[0]!.split(/\s+/);
  // The word is not quoted back: a file given here by mistake may hold a secret.
  if (!Object.hasOwn(FIELD_COUNT, type)) return { ok: false, reason: `it does not start with a supported key type (${KEY_TYPES_TEXT})` };
  if (!blobMatches(type, base64)) {
    return { ok: false, reason: `the data after "${type}" is not a base64 ${type} key blob (truncated or mangled?)` };
  }
  return { ok: true, value: { type, base64, line: [type, base64, ...comment].join(" ") } };
}

export function sha256Fingerprint(key: PublicKey): string {
  const digest = createHash("sha256").update(Buffer.from(key.base64, "base64")).digest("base64");
  return `SHA256:${digest.replace(/=+$/, "")}`;
}

/** A `SHA256:...` fingerprint, a known_hosts line (`hosts type base64`) or a bare `type base64`. */
export function parseHostKeyPin(text: string): Parsed<HostKeyPin> {
  const trimmed = text.trim();
  const fingerprint = /^SHA256:([A-Za-z0-9+/]{43})=?$/.exec(trimmed);
  if (fingerprint) return { ok: true, value: { sha256Fingerprint: `SHA256:${fingerprint[1]}` } };
  if (trimmed.startsWith("SHA256:")) return { ok: false, reason: "a fingerprint is SHA256: and 43 base64 characters, as `ssh-keygen -lf` prints it" };
  if (trimmed.startsWith("@")) {
    return { ok: false, reason: "known_hosts markers (@cert-authority, @revoked) are not supported; give the host's own key" };
  }
  // A known_hosts line starts with host patterns; a bare key starts with its type.
  const keyText = /^(ssh-|ecdsa-|sk-)/.test(trimmed) ? trimmed : trimmed.replace(/^\S+\s+/, "");
  const key = parsePublicKey(keyText);
  if (!key.ok) return key;
  return { ok: true, value: { sha256Fingerprint: sha256Fingerprint(key.value), publicKey: key.value } };
}

// The blob is a sequence of length-prefixed fields, the first being the key type: a blob
// that does not split exactly into the fields its type has is truncated or damaged.
// Round-tripping the base64 rejects the characters Buffer would silently skip.
function blobMatches(type: string, base64: string): boolean {
  const blob = Buffer.from(base64, "base64");
  if (blob.length === 0 || blob.toString("base64") !== base64) return false;
  const fields: Buffer[] = [];
  for (let offset = 0; offset < blob.length;) {
    if (offset + 4 > blob.length) return false;
    const end = offset + 4 + blob.readUInt32BE(offset);
    if (end > blob.length) return false;
    fields.push(blob.subarray(offset + 4, end));
    offset = end;
  }
  return fields.length === FIELD_COUNT[type] && fields[0]!.toString("latin1") === type;
}
