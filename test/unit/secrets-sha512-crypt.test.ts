import { execFileSync } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { describe, expect, it } from "vitest";
import { CRYPT_ALPHABET, sha512Crypt } from "../../secrets/sha512-crypt";

// The test vectors of Drepper's specification ("Unix crypt using SHA-256 and SHA-512", sha512crypt.c).
const SPEC_VECTORS: [setting: string, password: string, hash: string][] = [
  ["$6$saltstring", "Hello world!", "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"],
  [
    "$6$rounds=10000$saltstringsaltstring",
    "Hello world!",
    "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.",
  ],
  [
    "$6$rounds=5000$toolongsaltstring",
    "This is just a test",
    "$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0",
  ],
  [
    "$6$rounds=1400$anotherlongsaltstring",
    "a very much longer text to encrypt.  This one even stretches over morethan one line.",
    "$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1",
  ],
  [
    "$6$rounds=77777$short",
    "we have a short salt string but not a short password",
    "$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0",
  ],
  [
    "$6$rounds=123456$asaltof16chars..",
    "a short string",
    "$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1",
  ],
  [
    "$6$rounds=10$roundstoolow",
    "the minimum number is still observed",
    "$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX.",
  ],
];

/** What `openssl passwd -6` makes of it; the password goes through stdin, so it may start with "-". */
const openssl = (salt: string, password: string) =>
  execFileSync("openssl", ["passwd", "-6", "-salt", salt, "-stdin"], { encoding: "utf8", input: `${password}\n` }).trim();

const randomText = (alphabet: string, length: number) => Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join("");
// Printable ASCII: `openssl passwd -stdin` reads one password per line.
const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join("");

describe("sha512Crypt", () => {
  it.each(SPEC_VECTORS)("gives the specification's hash for %s", (setting, password, hash) => {
    expect(sha512Crypt(password, setting)).toBe(hash);
  });

  it("agrees with openssl passwd -6 for random passwords and salts, across SHA-512 block sizes", () => {
    // 1, 63, 64, 65 and 128+ bytes exercise each branch of the password-length loops.
    for (const length of [1, 7, 20, 63, 64, 65, 129, 200]) {
      const password = randomText(PRINTABLE, length);
      const salt = randomText(CRYPT_ALPHABET, randomInt(1, 17));
      expect(sha512Crypt(password, `$6$${salt}`), JSON.stringify({ password, salt })).toBe(openssl(salt, password));
    }
  });

  it("hashes the empty password as the system's crypt(3) does (openssl refuses it)", () => {
    // perl -e 'print crypt("", q($6$saltstring))' on Debian 12 (libxcrypt).
    expect(sha512Crypt("", "$6$saltstring")).toBe("$6$saltstring$kyGrqt6gmjAdtFLPrflEFifSYLCWWq1pyx95SvqinLDy2UHmj0sTF0MSLMwxPFZc3tu5kQckI8fks0zOPda3n1");
  });

  it("hashes a password as its UTF-8 bytes, as glibc and openssl do", () => {
    const password = "pässwörd-€";
    expect(sha512Crypt(password, "$6$saltstring")).toBe(openssl("saltstring", password));
  });

  it("verifies: a whole hash used as the setting gives itself back", () => {
    const password = randomBytes(15).toString("base64");
    for (const setting of ["$6$abcdefghijklmnop", "$6$rounds=2000$xyz"]) {
      const hash = sha512Crypt(password, setting);
      expect(sha512Crypt(password, hash)).toBe(hash);
      expect(sha512Crypt(`${password}x`, hash)).not.toBe(hash);
    }
  });

  it("refuses a setting of another scheme", () => {
    expect(() => sha512Crypt("pw", "$5$saltstring")).toThrow(/SHA-512 crypt setting/);
  });
});
