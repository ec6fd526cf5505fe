import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { metaData, networkConfig, trustCaScript, userData, type UserDataArgs } from "../../cloudinit";
import { CA_DIR, CLOUD_INIT_DISABLED_FILE } from "../../model/guest-paths";
import { generateHostKey } from "../../secrets/host-key";
import { throwawayCa } from "../../testbed/ca";

// PyYAML, which cloud-init uses, implements YAML 1.1.
const parse11 = (text: string) => parse(text, { version: "1.1" });

const ROOT_KEY = generateHostKey("admin@example").publicKey;
const HOST_KEY = generateHostKey("root@boreas");
const RSA_KEY = makeRsaKey();
const base: UserDataArgs = { hostname: "boreas", fqdn: "boreas.anemoi.internal", rootAuthorizedKeys: [ROOT_KEY], hostKeys: { ed25519: HOST_KEY } };

describe("userData", () => {
  it("starts with the #cloud-config header cloud-init requires", () => {
    expect(userData(base).split("\n")[0]).toBe("#cloud-config");
  });

  it("sets the hostname, authorizes the root key, locks root's password and forbids password SSH", () => {
    const doc = parse11(userData(base));
    expect(doc.hostname).toBe("boreas");
    expect(doc.fqdn).toBe("boreas.anemoi.internal");
    // /etc/hosts is ours (below): cloud-init would rewrite it at each boot from the first boot's domain.
    expect(doc.manage_etc_hosts).toBe(false);
    expect(doc.users).toEqual([{ name: "root", lock_passwd: true, ssh_authorized_keys: [ROOT_KEY] }]);
    expect(doc.disable_root).toBe(false);
    expect(doc.ssh_pwauth).toBe(false);
    // Key only, whatever the image's sshd_config says (issue 19).
    expect(doc.write_files).toEqual([
      {
        path: "/etc/ssh/sshd_config.d/00-vm-cluster.conf",
        content:
          "# vm-cluster: root logs in with its SSH key only.\nPermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n",
        owner: "root:root",
        permissions: "0644",
      },
      {
        path: "/etc/hosts",
        content:
          "# Written by vm-cluster (its network.domain); pulumi up rewrites it.\n127.0.0.1 localhost\n127.0.1.1 boreas.anemoi.internal boreas\n::1 localhost ip6-localhost ip6-loopback\nff02::1 ip6-allnodes\nff02::2 ip6-allrouters\n",
        owner: "root:root",
        permissions: "0644",
      },
    ]);
    expect(doc.packages).toBeUndefined();
  });

  it("installs the pre-generated host keys and deletes the image's", () => {
    const doc = parse11(userData(base));
    expect(doc.ssh_deletekeys).toBe(true);
    // ssh_keys alone stops key generation; an empty ssh_genkeytypes would fail cloud-init's schema.
    expect(doc.ssh_genkeytypes).toBeUndefined();
    expect(doc.ssh_keys).toEqual({ ed25519_private: HOST_KEY.privateKey, ed25519_public: HOST_KEY.publicKey });
  });

  it("passes optional host key types through when they are given", () => {
    const doc = parse11(userData({ ...base, hostKeys: { ed25519: HOST_KEY, rsa: RSA_KEY } }));
    expect(Object.keys(doc.ssh_keys)).toEqual(["ed25519_private", "ed25519_public", "rsa_private", "rsa_public"]);
  });

  it("sets a console password hash instead of locking root when one is given", () => {
    const hash = "$6$abcdefgh$" + "x".repeat(86);
    const doc = parse11(userData({ ...base, consolePasswordHash: hash }));
    expect(doc.users[0]).toEqual({ name: "root", lock_passwd: false, hashed_passwd: hash, ssh_authorized_keys: [ROOT_KEY] });
    expect(doc.ssh_pwauth).toBe(false);
  });

  it("checks for python3 without apt, in a runcmd that stops at the first failure", () => {
    const doc = parse11(userData(base));
    expect(doc.runcmd[0]).toBe("set -e");
    expect(doc.runcmd).toHaveLength(2);
    // Run the commands as cloud-init's runcmd script would: one line each, string items verbatim.
    const script = `${doc.runcmd.join("\n")}\necho after\n`;
    const withPython = execFileSync("sh", ["-c", script], { encoding: "utf8" });
    expect(withPython).toBe("after\n");
    let failure: { status?: number; stderr?: string; stdout?: string } = {};
    try {
      execFileSync("/bin/sh", ["-c", script], { encoding: "utf8", env: { PATH: "/nonexistent" }, stdio: "pipe" });
    } catch (error) {
      failure = error as typeof failure;
    }
    expect(failure.status).toBe(1);
    expect(failure.stdout).toBe("");
    expect(failure.stderr).toContain("python3 is missing");
  });

  it("installs a CA certificate under vm-cluster/ and updates the trust store", () => {
    const pem = throwawayCa("Test Domain CA");
    const doc = parse11(userData({ ...base, caCertificate: { name: "domain-ca", pem } }));
    expect(doc.write_files.slice(2)).toEqual([{ path: `${CA_DIR}/domain-ca.crt`, content: pem, owner: "root:root", permissions: "0644" }]);
    expect(doc.runcmd.at(-1)).toBe(trustCaScript());
    expect(parse11(userData(base)).runcmd).not.toContain(trustCaScript());
  });

  it("splits a CA bundle into one file per certificate, as update-ca-certificates expects", () => {
    const [a, b] = [throwawayCa("A"), throwawayCa("B")];
    const doc = parse11(userData({ ...base, caCertificate: { name: "lab", pem: `${a}some text\n${b}` } }));
    expect(doc.write_files.slice(2).map((f: { path: string; content: string }) => [f.path, f.content])).toEqual([
      [`${CA_DIR}/lab-1.crt`, a],
      [`${CA_DIR}/lab-2.crt`, b],
    ]);
  });

  it("disables cloud-init as the very last command when asked", () => {
    const pem = throwawayCa("Test Domain CA");
    const doc = parse11(userData({ ...base, caCertificate: { name: "ca", pem }, disableCloudInitAfterBoot: true }));
    expect(doc.runcmd.slice(-2)).toEqual([trustCaScript(), ["touch", CLOUD_INIT_DISABLED_FILE]]);
    expect(parse11(userData({ ...base, disableCloudInitAfterBoot: false })).runcmd).not.toContainEqual(["touch", CLOUD_INIT_DISABLED_FILE]);
  });
});

describe("trustCaScript", () => {
  /** A trust store as an image ships it (a bundle, one system CA linked by name and hash), our CA files, and a stand-in update-ca-certificates. */
  function store(opts: { hook?: boolean; bundle?: boolean } = {}) {
    const dir = mkdtempSync(join(tmpdir(), "vmc-trust-"));
    const [certs, ca, hooks, bin] = ["certs", "ca", "hooks", "bin"].map((d) => join(dir, d));
    for (const d of [certs, ca, hooks, bin]) mkdirSync(d);
    const system = throwawayCa("System Root");
    writeFileSync(join(dir, "system.crt"), system);
    if (opts.bundle !== false) writeFileSync(join(certs, "ca-certificates.crt"), system);
    execFileSync("ln", ["-s", join(dir, "system.crt"), join(certs, "System_Root.pem")]);
    execFileSync("openssl", ["rehash", certs], { stdio: "ignore" });
    const ours = [throwawayCa("Lab CA 1"), throwawayCa("Lab CA 2")];
    // The last one without a final newline: the bundle must still hold whole PEM blocks.
    writeFileSync(join(ca, "lab-1.crt"), ours[0]!);
    writeFileSync(join(ca, "lab-2.crt"), ours[1]!.trimEnd());
    if (opts.hook) writeFileSync(join(hooks, "jks-keystore"), "#!/bin/sh\n");
    writeFileSync(join(bin, "update-ca-certificates"), `#!/bin/sh\ntouch ${join(dir, "full-update-ran")}\n`);
    chmodSync(join(bin, "update-ca-certificates"), 0o755);
    const run = () =>
      execFileSync("sh", ["-e", "-c", trustCaScript(ca, certs, hooks)], { env: { PATH: `${bin}:${process.env.PATH}` }, encoding: "utf8", stdio: "pipe" });
    const verify = (file: string) => execFileSync("openssl", ["verify", "-CApath", certs, file], { encoding: "utf8", stdio: "pipe" }).trim();
    const fullUpdateRan = () => readdirSync(dir).includes("full-update-ran");
    return { dir, certs, ca, ours, system, run, verify, fullUpdateRan, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  }

  it("adds our CAs as update-ca-certificates would: linked by name and by hash, appended to the bundle once", () => {
    const s = store();
    try {
      s.run();
      expect(s.fullUpdateRan()).toBe(false);
      expect(readlinkSync(join(s.certs, "lab-1.pem"))).toBe(join(s.ca, "lab-1.crt"));
      expect(readlinkSync(join(s.certs, "lab-2.pem"))).toBe(join(s.ca, "lab-2.crt"));
      // openssl finds each by its subject hash, as TLS clients using the directory do.
      expect(s.verify(join(s.ca, "lab-1.crt"))).toMatch(/: OK$/);
      expect(s.verify(join(s.ca, "lab-2.crt"))).toMatch(/: OK$/);
      const bundle = () => readFileSync(join(s.certs, "ca-certificates.crt"), "utf8");
      expect(bundle()).toBe(`${s.system}${s.ours[0]}${s.ours[1]!.trimEnd()}\n`);
      // A second run (cloud-init run again by hand) adds nothing twice.
      s.run();
      expect(bundle()).toBe(`${s.system}${s.ours[0]}${s.ours[1]!.trimEnd()}\n`);
    } finally {
      s.cleanup();
    }
  });

  it("runs the real update-ca-certificates where hooks want to hear of new certificates, or the bundle is missing", () => {
    for (const opts of [{ hook: true }, { bundle: false }]) {
      const s = store(opts);
      try {
        s.run();
        expect(s.fullUpdateRan()).toBe(true);
        expect(readdirSync(s.certs)).not.toContain("lab-1.pem");
      } finally {
        s.cleanup();
      }
    }
  });
});

describe("metaData", () => {
  it("names the instance and its host", () => {
    expect(parse11(metaData({ instanceId: "anemoi-boreas-1", hostname: "boreas" }))).toEqual({
      "instance-id": "anemoi-boreas-1",
      "local-hostname": "boreas",
    });
  });
});

describe("networkConfig", () => {
  it("asks for DHCP on the NIC with the VM's MAC (version 2)", () => {
    expect(parse11(networkConfig({ macAddress: "52:54:00:ab:cd:0f" }))).toEqual({
      version: 2,
      ethernets: { primary: { match: { macaddress: "52:54:00:ab:cd:0f" }, dhcp4: true } },
    });
  });

  it("quotes an all-digit MAC, which YAML 1.1 would otherwise read as a base-60 number", () => {
    const mac = "52:54:00:12:34:56";
    expect(parse11(stringify({ mac })).mac).toBe(((((52 * 60 + 54) * 60 + 0) * 60 + 12) * 60 + 34) * 60 + 56);
    expect(parse11(networkConfig({ macAddress: mac })).ethernets.primary.match.macaddress).toBe(mac);
  });
});

// An RSA host key made by ssh-keygen, for the optional key types.
function makeRsaKey(): { privateKey: string; publicKey: string } {
  const dir = mkdtempSync(join(tmpdir(), "cloudinit-rsa-"));
  try {
    execFileSync("ssh-keygen", ["-q", "-t", "rsa", "-b", "2048", "-N", "", "-C", "", "-f", join(dir, "key")]);
    return { privateKey: readFileSync(join(dir, "key"), "utf8"), publicKey: readFileSync(join(dir, "key.pub"), "utf8").trim() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
