import { describe, expect, it } from "vitest";
import { consolePasswordProvider, PASSWORD_ALPHABET, PASSWORD_LENGTH, type ConsolePasswordState } from "../../secrets/console-password";
import { sha512Crypt } from "../../secrets/sha512-crypt";

const create = async (rotation = "") => {
  const { id, outs } = await consolePasswordProvider.create!({ rotation });
  return { id, outs: outs as ConsolePasswordState };
};

describe("consolePasswordProvider.create", () => {
  it("draws a password of the console alphabet and keeps its SHA-512 crypt hash, salted", async () => {
    const { id, outs } = await create("r1");
    expect(outs.rotation).toBe("r1");
    expect(outs.password).toHaveLength(PASSWORD_LENGTH);
    for (const ch of outs.password) expect(PASSWORD_ALPHABET).toContain(ch);
    expect(PASSWORD_ALPHABET).not.toMatch(/[01lIO]/);
    expect(outs.hash).toMatch(/^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
    expect(sha512Crypt(outs.password, outs.hash)).toBe(outs.hash);
    // The id is shown in plain text.
    expect(id).not.toContain(outs.password);
    expect(outs.hash).not.toContain(outs.password);
  });

  it("draws a new password and salt each time", async () => {
    const [a, b] = await Promise.all([create(), create()]);
    expect(a.outs.password).not.toBe(b.outs.password);
    expect(a.outs.hash.slice(0, 20)).not.toBe(b.outs.hash.slice(0, 20));
    expect(a.id).not.toBe(b.id);
  });
});

describe("consolePasswordProvider.diff", () => {
  it("replaces the password when the rotation changes", async () => {
    const { id, outs } = await create("2024");
    expect(await consolePasswordProvider.diff!(id, outs, { rotation: "2025" })).toEqual({ changes: true, replaces: ["rotation"] });
  });

  it("changes nothing otherwise, so the password is stable across updates", async () => {
    const { id, outs } = await create("2024");
    expect(await consolePasswordProvider.diff!(id, outs, { rotation: "2024" })).toEqual({ changes: false, replaces: [] });
  });
});
