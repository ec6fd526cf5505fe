import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generateHostKey } from "../../secrets/host-key";
import { parsePublicKey, sha256Fingerprint } from "../../model/ssh-key";

const dir = mkdtempSync(join(tmpdir(), "cloudinit-host-key-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function keyFile(name: string, privateKey: string): string {
  const file = join(dir, name);
  // ssh-keygen refuses private keys that others can read.
  writeFileSync(file, privateKey, { mode: 0o600 });
  return file;
}

const sshKeygen = (args: string[], input?: string) => execFileSync("ssh-keygen", args, { encoding: "utf8", input });

describe("generateHostKey", () => {
  it("writes a private key from which ssh-keygen derives exactly our public line", () => {
    const pair = generateHostKey("root@boreas");
    const file = keyFile("with-comment", pair.privateKey);
    expect(sshKeygen(["-y", "-f", file]).trim()).toBe(pair.publicKey);
    expect(pair.publicKey).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43} root@boreas$/);
  });

  it("is accepted by ssh-keygen -l with the fingerprint known_hosts users will see", () => {
    const pair = generateHostKey();
    const file = keyFile("fingerprint", pair.privateKey);
    const parsed = parsePublicKey(pair.publicKey);
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(pair.publicKey.split(" ")).toHaveLength(2);
    expect(sshKeygen(["-l", "-f", file]).trim()).toMatch(new RegExp(`^256 ${sha256Fingerprint(parsed.value).replace(/\+/g, "\\+")} .*\\(ED25519\\)$`));
  });

  it("holds a secret that matches the public key: a signature made with it verifies against the public line", () => {
    const pair = generateHostKey("sign-test");
    const file = keyFile("sign", pair.privateKey);
    const data = join(dir, "data");
    writeFileSync(data, "vm-cluster\n");
    sshKeygen(["-q", "-Y", "sign", "-f", file, "-n", "file", data]);
    const allowed = join(dir, "allowed_signers");
    writeFileSync(allowed, `host ${pair.publicKey}\n`);
    expect(sshKeygen(["-Y", "verify", "-f", allowed, "-I", "host", "-n", "file", "-s", `${data}.sig`], "vm-cluster\n")).toContain("Good");
  });

  it("uses OpenSSH's armour and 70-column lines, and gives a new key each time", () => {
    const a = generateHostKey();
    const lines = a.privateKey.trimEnd().split("\n");
    expect(lines[0]).toBe("-----BEGIN OPENSSH PRIVATE KEY-----");
    expect(lines.at(-1)).toBe("-----END OPENSSH PRIVATE KEY-----");
    expect(lines.slice(1, -2).every((line) => line.length === 70)).toBe(true);
    expect(a.privateKey.endsWith("\n")).toBe(true);
    expect(generateHostKey().publicKey).not.toBe(a.publicKey);
  });
});
