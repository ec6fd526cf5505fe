// Hostile config values: quotes, `;`, `$()`, backticks, spaces, newlines, `../`, option-like words.
// Names and addresses that end up in argv, XML, file names or iptables rules are refused by
// validation, with the key named; the few free-text values (a pool directory, an image URL, an SSH
// key's comment) pass unchanged as data: never a shell word (argv arrays end to end, see
// test/integration/connection.test.ts and the canary runs in providers.test.ts and cluster.test.ts),
// escaped in XML, quoted in YAML.
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { userData } from "../../cloudinit";
import { generateHostKey } from "../../secrets/host-key";
import { buildPoolXml, parsePoolXml } from "../../libvirt/xml";
import { parseClusterConfig, type ClusterModel } from "../../model";
import { ED25519_FINGERPRINT, HOME, baseRaw, ed25519Line, fakeIo, FILES } from "../unit/fixtures/cluster-config";

const SHELL = ["a'b", 'a"b', "a;b", "$(touch /tmp/vmc-canary)", "`touch /tmp/vmc-canary`", "a b", "a\nb", "a|b", "a&b", "a>b"];
const PATHS = ["../etc", "../../root/.ssh/authorized_keys", "a/b", "."];
const OPTIONS = ["-oProxyCommand=touch /tmp/vmc-canary", "--help"];
const HOSTILE = [...SHELL, ...PATHS, ...OPTIONS, ""];

type Raw = Record<string, any>;

function problemsOf(edit: (raw: Raw) => void): string[] {
  const raw = baseRaw() as Raw;
  edit(raw);
  const result = parseClusterConfig(raw, fakeIo());
  return result.ok ? [] : result.problems;
}

function modelOf(edit: (raw: Raw) => void, files = FILES): ClusterModel {
  const raw = baseRaw() as Raw;
  edit(raw);
  const result = parseClusterConfig(raw, fakeIo(files));
  if (!result.ok) throw new Error(result.problems.join("\n"));
  return result.model;
}

const ssh = (over: Record<string, unknown>) => ({
  type: "ssh",
  host: "vmhost.example",
  user: "root",
  privateKey: "~/.ssh/id_ed25519",
  hostKey: ED25519_FINGERPRINT,
  ...over,
});

/** Keys whose value becomes a name on the host (or an argv word): every hostile value is refused there. */
const REFUSED: [key: string, set: (raw: Raw, v: string) => void][] = [
  ["cluster", (r, v) => (r.cluster = v)],
  ["vms[0].name", (r, v) => (r.vms[0].name = v)],
  ["vms[0].ip", (r, v) => (r.vms[0].ip = v)],
  ["vms[0].mac", (r, v) => (r.vms[0].mac = v)],
  ["vms[0].disk", (r, v) => (r.vms[0].disk = v === "" ? "3G;" : `3G${v}`)],
  ["lan.interface", (r, v) => (r.lan.interface = v)],
  ["lan.subnet", (r, v) => (r.lan.subnet = v)],
  ["network.bridge", (r, v) => (r.network.bridge = v)],
  ["network.gateway", (r, v) => (r.network.gateway = v)],
  ["host.host", (r, v) => (r.host = ssh({ host: v }))],
  ["host.user", (r, v) => (r.host = ssh({ user: v }))],
  ["host.hostKey", (r, v) => (r.host = ssh({ hostKey: v }))],
  ["image.sha512", (r, v) => (r.image = { url: "https://mirror.example/x.qcow2", sha512: v })],
];

describe("hostile values where names and addresses go", () => {
  for (const [key, set] of REFUSED) {
    it(`${key}: every one is refused, naming the key`, () => {
      for (const value of HOSTILE) {
        const problems = problemsOf((raw) => set(raw, value));
        expect(
          problems.some((p) => p.startsWith(`vm-cluster:${key}`)),
          `${key} = ${JSON.stringify(value)}: ${problems.join("; ")}`,
        ).toBe(true);
      }
    });
  }

  it("poolDir: relative, `..`, `.` and control characters are refused", () => {
    for (const value of ["../etc", "rel/dir", "/var/lib/../../etc", "/var/lib/./x", "/var/lib/a\nb", "/var/lib/a\tb", "/etc", "/"]) {
      expect(
        problemsOf((raw) => (raw.poolDir = value)).some((p) => p.startsWith("vm-cluster:poolDir")),
        JSON.stringify(value),
      ).toBe(true);
    }
  });

  it("poolDir: a system directory however it is spelled, a system tree, a home directory or a hidden folder is refused (issue 19)", () => {
    for (const value of [
      "//root",
      "/var//lib/libvirt",
      "/var/lib/libvirt/images/",
      "/root/.ssh",
      "/home/alice",
      "/home/alice/",
      "/usr/local",
      "/etc/libvirt/pool",
      "/boot/x",
      "/var/log/vms",
      "/srv/.cache/vms",
    ]) {
      expect(
        problemsOf((raw) => (raw.poolDir = value)).some((p) => p.startsWith("vm-cluster:poolDir")),
        JSON.stringify(value),
      ).toBe(true);
    }
  });

  it("poolDir: a folder of its own passes, written without repeated or trailing slashes", () => {
    for (const [value, dir] of [
      ["/var/lib/libvirt/images/anemoi", "/var/lib/libvirt/images/anemoi"],
      ["//srv//vm/anemoi/", "/srv/vm/anemoi"],
      ["/home/alice/vm-pools/anemoi", "/home/alice/vm-pools/anemoi"],
      ["/data/vms", "/data/vms"],
    ]) {
      expect(modelOf((raw) => (raw.poolDir = value)).pool.dir, value).toBe(dir);
    }
  });

  it("image.url: only http(s) and file URLs, never a command", () => {
    for (const value of ["$(touch /tmp/vmc-canary)", "`id`", "ftp://mirror.example/x.qcow2", "-o/tmp/x", "file:///var/lib/", "a b"]) {
      expect(
        problemsOf((raw) => (raw.image = { url: value, sha512: "a".repeat(128) })).some((p) => p.startsWith("vm-cluster:image.url")),
        JSON.stringify(value),
      ).toBe(true);
    }
  });

  it("sshPublicKey: a second line (a cloud-config injection) is refused", () => {
    const injected = `${ed25519Line(7, "me@x")}\nruncmd: [[touch, /tmp/vmc-canary]]`;
    expect(problemsOf((raw) => (raw.sshPublicKey = { key: injected }))).toEqual([
      "vm-cluster:sshPublicKey.key: the value is not an SSH public key: it holds 2 lines; give exactly one public key",
    ]);
  });
});

describe("free text that passes unchanged, as data", () => {
  const nasty = `it's a "pool";$(touch /tmp/vmc-canary)\`id\` & | >`;

  it("a pool directory keeps every character, and libvirt's XML carries it escaped", () => {
    const model = modelOf((raw) => (raw.poolDir = `/var/lib/vmc/${nasty}`));
    expect(model.pool.dir).toBe(`/var/lib/vmc/${nasty}`);
    const pool = { name: model.pool.name, target: { path: model.pool.dir, permissions: { mode: "0755", owner: 0, group: 0 } } };
    const xml = buildPoolXml(pool);
    expect(xml).not.toContain(nasty);
    expect(parsePoolXml(xml).target.path).toBe(model.pool.dir);
  });

  it("an image URL keeps its query; the file name looked up in SHA512SUMS is its last path segment", () => {
    const model = modelOf((raw) => (raw.image = { url: "https://mirror.example/x.qcow2?a=$(touch%20/tmp/vmc-canary);b='c'", sha512: "a".repeat(128) }));
    expect(model.image.url).toBe("https://mirror.example/x.qcow2?a=$(touch%20/tmp/vmc-canary);b='c'");
    expect(model.image.fileName).toBe("x.qcow2");
  });

  it("an SSH key comment stays one authorized_keys line in the guest's user-data, adding no command", () => {
    const comment = `me@x $(touch /tmp/vmc-canary); 'q' "d" runcmd: [x] #`;
    const model = modelOf((raw) => (raw.sshPublicKey = { key: ed25519Line(7, comment) }));
    const plain = modelOf(() => undefined);
    const build = (m: ClusterModel) =>
      parseYaml(
        userData({
          hostname: "boreas",
          fqdn: "boreas.anemoi.internal",
          rootAuthorizedKeys: [m.sshPublicKey],
          hostKeys: { ed25519: generateHostKey("root@boreas") },
        }),
      ) as Record<string, any>;
    const doc = build(model);
    expect(doc.users[0].ssh_authorized_keys).toEqual([ed25519Line(7, comment)]);
    expect(Object.keys(doc).sort()).toEqual(Object.keys(build(plain)).sort());
    expect(doc.runcmd).toEqual(build(plain).runcmd);
  });

  it("a key file named with `../` is read on the machine that runs pulumi, and its text never goes into the message", () => {
    // The fake reader does not resolve `..`: it knows the file under the name as given.
    const files = { ...FILES, [`${HOME}/../../etc/shadow`]: "root:$6$SECRETHASH:19000:0:99999:7:::\nbin:*:19000:0:99999:7:::\n" };
    const raw = baseRaw() as Raw;
    raw.caCertificate = { file: `${HOME}/../../etc/shadow` };
    const result = parseClusterConfig(raw, fakeIo(files));
    expect(result.ok).toBe(false);
    const problems = (result as { problems: string[] }).problems.join("\n");
    expect(problems).toMatch(/caCertificate\.file: .*\/etc\/shadow is not a PEM certificate/);
    expect(problems).not.toContain("SECRETHASH");
  });
});

// Gaps in model/ (read-only for this work), kept as expected failures: each passes once fixed there.
describe("validation gaps (model/)", () => {
  it("host.netns: shell words, paths and spaces are refused", () => {
    for (const value of [...SHELL, ...PATHS.filter((p) => p.includes("/") || p === "."), "a b", ""]) {
      expect(
        problemsOf((raw) => (raw.host = { type: "local", netns: value })).some((p) => p.startsWith("vm-cluster:host.netns")),
        JSON.stringify(value),
      ).toBe(true);
    }
  });

  it("refuses a host.netns that starts with `-` (it follows `ip netns exec`, where it would read as an option)", () => {
    expect(problemsOf((raw) => (raw.host = { type: "local", netns: "--help" })).length).toBeGreaterThan(0);
  });

  it("refuses an image URL with a newline or tab (the URL parser would drop them, curl would not)", () => {
    expect(problemsOf((raw) => (raw.image = { url: "https://mirror.example/x\n.qcow2", sha512: "a".repeat(128) })).length).toBeGreaterThan(0);
  });

  it("does not quote a file given as a public key back in the message (it may hold a secret)", () => {
    const files = { ...FILES, [`${HOME}/token`]: "SECRET-TOKEN-d41d8cd98f00b204\n" };
    const raw = baseRaw() as Raw;
    raw.sshPublicKey = { file: "~/token" };
    const result = parseClusterConfig(raw, fakeIo(files));
    expect((result as { problems: string[] }).problems.join("\n")).not.toContain("SECRET-TOKEN");
  });
});
