// Both host connections run argv as inert data, report failures with command, exit code and
// stderr, and the SSH one refuses a host key other than the configured one.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, isCommandError, type CommandError, shellQuote, type ConnectionSpec } from "../../libvirt/connection";
import { startSshd, type TestSshd } from "../support/sshd";

const hostile = ["it's", "a;b", "$(touch /tmp/vmc-pwned)", "`id`", "two words", "line\nbreak", "*", "", "--flag"];

let sshd: TestSshd;
beforeAll(async () => {
  sshd = await startSshd("conn", 1);
});
afterAll(() => sshd?.stop());

const specs = (): [string, ConnectionSpec][] => [
  ["local", { type: "local" }],
  ["ssh", { type: "ssh", host: sshd.host, port: sshd.port, user: sshd.user, privateKey: sshd.privateKey, hostKey: sshd.hostKey }],
];

describe.each(["local", "ssh"])("%s connection", (kind) => {
  const spec = () => specs().find(([k]) => k === kind)![1];

  it("passes every argument through unchanged, so no shell ever interprets config values", async () => {
    const r = await connect(spec()).run(["printf", "%s\\0", ...hostile]);
    expect(r.stdout.split("\0").slice(0, -1)).toEqual(hostile);
  });

  it("feeds standard input", async () => {
    const r = await connect(spec()).run(["cat"], { input: "from stdin\n" });
    expect(r.stdout).toBe("from stdin\n");
  });

  it("reports the command, exit code and stderr of a failure", async () => {
    const err = await connect(spec()).run(["ls", "/no/such/path"]).catch((e: unknown) => e);
    expect(isCommandError(err)).toBe(true);
    expect((err as CommandError).exitCode).toBe(2);
    expect((err as CommandError).message).toMatch(/`ls \/no\/such\/path`.*exit 2.*No such file/s);
  });

  it("accepts exit codes declared as fine", async () => {
    expect((await connect(spec()).run(["false"], { okCodes: [0, 1] })).code).toBe(1);
  });

  it("runs inside the configured network namespace", async () => {
    const r = await connect({ ...spec(), netns: sshd.netns }).run(["ip", "-o", "addr", "show"]);
    expect(r.stdout).toContain(sshd.host);
  });
});

describe("ssh host key checking", () => {
  const base = () => ({ type: "ssh" as const, host: sshd.host, port: sshd.port, user: sshd.user, privateKey: sshd.privateKey });

  it("accepts the key's SHA256 fingerprint", async () => {
    const blob = Buffer.from(sshd.hostKey.split(/\s+/)[1], "base64");
    const fp = `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
    expect((await connect({ ...base(), hostKey: fp }).run(["true"])).code).toBe(0);
  });

  it("refuses a host whose key is not the configured one", async () => {
    const other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
    await expect(connect({ ...base(), hostKey: other }).run(["true"])).rejects.toThrow(/host key .* does not match/);
  });
});

describe("shellQuote", () => {
  it("leaves plain words alone and quotes the rest", () => {
    expect(shellQuote(["virsh", "-c", "qemu:///system", "it's", ""])).toBe(`virsh -c qemu:///system 'it'\\''s' ''`);
  });
});
