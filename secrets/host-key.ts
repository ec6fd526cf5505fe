// SSH host keys made before the VM exists, so known_hosts can be written and strict host key
// checking stays on. OpenSSH's own formats, written here because node:crypto knows neither:
// the public line is `ssh-ed25519 base64(blob)`, the private key is "openssh-key-v1" (PROTOCOL.key).
import { generateKeyPairSync, randomBytes } from "node:crypto";

export interface HostKeyPair {
  /** `-----BEGIN OPENSSH PRIVATE KEY-----` block, unencrypted, as sshd reads it. */
  readonly privateKey: string;
  /** One `type base64 [comment]` line. */
  readonly publicKey: string;
}

const ED25519 = "ssh-ed25519";
// A string, not a Buffer: this module is serialized into state with the key pair provider, and a
// Buffer captured at module level does not survive that.
const MAGIC = "openssh-key-v1\0";
// Without a cipher the private section is padded to 8 bytes, the "none" cipher's block size.
const BLOCK_SIZE = 8;

/** A fresh ed25519 host key pair; `comment` ends up after the public key (e.g. "root@boreas"). */
export function generateHostKey(comment = ""): HostKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const jwk = privateKey.export({ format: "jwk" });
  const pub = publicKey.export({ format: "jwk" }).x;
  if (jwk.d === undefined || pub === undefined) throw new Error("node:crypto returned an ed25519 JWK without key material");
  const seed = Buffer.from(jwk.d, "base64url");
  const point = Buffer.from(pub, "base64url");

  const publicBlob = Buffer.concat([sshString(ED25519), sshString(point)]);
  // OpenSSH stores the ed25519 secret as seed || public point, 64 bytes.
  const checkInt = randomBytes(4);
  const privateSection = pad(Buffer.concat([checkInt, checkInt, publicBlob, sshString(Buffer.concat([seed, point])), sshString(comment)]));
  const body = Buffer.concat([
    Buffer.from(MAGIC, "latin1"),
    sshString("none"), // cipher
    sshString("none"), // kdf
    sshString(""), // kdf options
    uint32(1), // number of keys
    sshString(publicBlob),
    sshString(privateSection),
  ]);
  const lines = body.toString("base64").match(/.{1,70}/g) ?? [];
  return {
    privateKey: ["-----BEGIN OPENSSH PRIVATE KEY-----", ...lines, "-----END OPENSSH PRIVATE KEY-----", ""].join("\n"),
    publicKey: [ED25519, publicBlob.toString("base64"), ...(comment ? [comment] : [])].join(" "),
  };
}

function uint32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value);
  return buffer;
}

/** SSH wire "string": uint32 length, then the bytes. */
function sshString(value: string | Buffer): Buffer {
  const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
  return Buffer.concat([uint32(bytes.length), bytes]);
}

function pad(section: Buffer): Buffer {
  const padding = (BLOCK_SIZE - (section.length % BLOCK_SIZE)) % BLOCK_SIZE;
  return Buffer.concat([section, Buffer.from(Array.from({ length: padding }, (_, i) => i + 1))]);
}
