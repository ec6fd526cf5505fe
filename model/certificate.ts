// The domain CA certificate installed into every guest's trust store.
import { X509Certificate } from "node:crypto";
import type { Parsed } from "./parsed";
import { looksLikePrivateKey } from "./ssh-key";

const BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** One or more PEM certificates (text between blocks is ignored), normalized to just the blocks. */
export function parseCertificatePem(text: string): Parsed<string> {
  // It would be copied into every guest: refuse a bundle that carries a key.
  if (looksLikePrivateKey(text)) {
    return { ok: false, reason: "it contains a PRIVATE KEY; give only the certificate" };
  }
  const blocks = text.match(BLOCK) ?? [];
  if (blocks.length === 0) {
    return { ok: false, reason: "it has no -----BEGIN CERTIFICATE----- block (a DER file converts with `openssl x509 -inform der -in ca.der -out ca.crt`)" };
  }
  for (const [i, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (error) {
      return { ok: false, reason: `certificate ${i + 1} is not valid X.509 (${(error as Error).message})` };
    }
  }
  return { ok: true, value: `${blocks.join("\n")}\n` };
}
