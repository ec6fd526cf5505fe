// README's `pulumi config set` commands, typed as shown into a stack of a throw-away project copy,
// give the config they promise: the program's own validation reads it back into the model.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadClusterModel } from "../../components/stack-config";
import { expandHome } from "../../model";
import { copyProject, engineSandbox, pulumiCli, type EngineSandbox } from "../../testbed/engine";
import { readmeCommand, runShell, userShellEnv } from "../support/readme";

let sandbox: EngineSandbox;
let project: string;
let home: string;
let env: Record<string, string>;

/** Runs a command in the project folder as a user's shell would, with HOME at the test's own. */
async function typed(command: string): Promise<string> {
  const r = await runShell(command, { cwd: project, env, timeoutMs: 100_000 });
  expect(r.code, r.out).toBe(0);
  return r.stdout;
}

/** The stack's config as the program receives it: key → text (JSON for objects), secrets decrypted. */
async function programConfig(): Promise<{ all: Record<string, string>; secret: Set<string> }> {
  const r = await pulumiCli(project, sandbox.env, ["config", "--json", "--show-secrets"]);
  expect(r.code, r.out).toBe(0);
  const entries = Object.entries(JSON.parse(r.stdout) as Record<string, { value: string; secret: boolean }>);
  return { all: Object.fromEntries(entries.map(([key, v]) => [key, v.value])), secret: new Set(entries.filter(([, v]) => v.secret).map(([key]) => key)) };
}

beforeAll(async () => {
  sandbox = engineSandbox("readme-config");
  project = path.join(sandbox.dir, "project");
  copyProject(project);
  home = path.join(sandbox.dir, "home-user");
  mkdirSync(path.join(home, ".ssh"), { recursive: true });
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "me@laptop", "-f", path.join(home, ".ssh", "id_ed25519")]);
  // The VM host's own key, as sshd keeps it in /etc/ssh on that host.
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "root@vmhost", "-f", path.join(sandbox.dir, "ssh_host_ed25519_key")]);
  env = userShellEnv(sandbox.env, { HOME: home });
  const init = await pulumiCli(project, sandbox.env, ["stack", "init", "readme"]);
  expect(init.code, init.out).toBe(0);
}, 120_000);
afterAll(() => sandbox?.cleanup());

describe("README's config commands", () => {
  it("set what the program reads back: a remote host with a pinned key and a secret private key, a VM, sizes", async () => {
    const fingerprint = (
      await typed(
        readmeCommand("ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub", {
          "/etc/ssh/ssh_host_ed25519_key.pub": path.join(sandbox.dir, "ssh_host_ed25519_key.pub"),
        }),
      )
    ).split(" ")[1]!;
    expect(fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    for (const command of [
      readmeCommand("pulumi config set vm-cluster:cluster anemoi"),
      readmeCommand("pulumi config set vm-cluster:domainType qemu"),
      readmeCommand("pulumi config set --path 'vm-cluster:network.cidr' 172.17.2.0/24"),
      readmeCommand("pulumi config set --path 'vm-cluster:defaults.memoryMiB' 4096"),
      readmeCommand("pulumi config set --path 'vm-cluster:vms[0].name' boreas"),
      readmeCommand("pulumi config set --path 'vm-cluster:vms[0].ip' 172.17.2.2"),
      readmeCommand("pulumi config set --path 'vm-cluster:sshPublicKey.file' '~/.ssh/id_ed25519.pub'"),
      readmeCommand("pulumi config set --path 'vm-cluster:host.type' ssh"),
      readmeCommand("pulumi config set --path 'vm-cluster:host.host' vmhost.example"),
      readmeCommand("pulumi config set --path 'vm-cluster:host.user' root"),
      readmeCommand("pulumi config set --path 'vm-cluster:host.hostKey' 'SHA256:...'", { "SHA256:...": fingerprint }),
      readmeCommand("pulumi config set --secret --path 'vm-cluster:host.privateKey' < ~/.ssh/id_ed25519"),
    ]) {
      await typed(command);
    }
    // What the README's excerpt leaves to the rest of the stack file.
    for (const [key, value] of [
      ["vm-cluster:lan.interface", "eno1"],
      ["vm-cluster:lan.subnet", "172.17.1.0/24"],
      ["vm-cluster:network.gateway", "172.17.2.1"],
      ["vm-cluster:network.dhcpStart", "172.17.2.2"],
      ["vm-cluster:network.dhcpEnd", "172.17.2.254"],
    ]) {
      const r = await pulumiCli(project, sandbox.env, ["config", "set", "--path", key, value]);
      expect(r.code, r.out).toBe(0);
    }

    const { all, secret } = await programConfig();
    expect(secret).toEqual(new Set(["vm-cluster:host"]));
    // The private key is encrypted in the stack file, never there in plain text.
    const privateKey = readFileSync(path.join(home, ".ssh", "id_ed25519"), "utf8");
    const stackFile = readFileSync(path.join(project, "Pulumi.readme.yaml"), "utf8");
    expect(stackFile).not.toContain(privateKey.split("\n")[1]);
    const model = loadClusterModel(all, { readFile: (file) => readFileSync(file, "utf8"), homeDir: home });
    expect(model.sites[0]!.host).toMatchObject({ type: "ssh", host: "vmhost.example", port: 22, user: "root", hostKey: { sha256Fingerprint: fingerprint } });
    expect(model.sites[0]!.host.type === "ssh" && model.sites[0]!.host.privateKey.trim()).toBe(privateKey.trim());
    expect(model).toMatchObject({ cluster: "anemoi", domainType: "qemu", sshIdentityFile: "~/.ssh/id_ed25519" });
    expect(model.sshPublicKey).toBe(readFileSync(path.join(home, ".ssh", "id_ed25519.pub"), "utf8").trim());
    expect(model.sites[0]!.network.cidr).toBe("172.17.2.0/24");
    expect(model.vms.map((vm) => [vm.name, vm.ip, vm.memoryMiB])).toEqual([["boreas", "172.17.2.2", 4096]]);
  }, 300_000);

  it("remove a list item by index", async () => {
    for (const [i, name] of ["zephyrus", "notus", "eurus"].entries()) {
      for (const [field, value] of [
        ["name", name],
        ["ip", `172.17.2.${3 + i}`],
      ]) {
        const r = await pulumiCli(project, sandbox.env, ["config", "set", "--path", `vm-cluster:vms[${i + 1}].${field}`, value]);
        expect(r.code, r.out).toBe(0);
      }
    }
    await typed(readmeCommand("pulumi config rm --path 'vm-cluster:vms[3]'"));
    const vms = JSON.parse((await programConfig()).all["vm-cluster:vms"]!) as { name: string }[];
    expect(vms.map((vm) => vm.name)).toEqual(["boreas", "zephyrus", "notus"]);
  }, 120_000);

  it("set the private key after `--`, or as a path read where pulumi runs", async () => {
    const keyFile = path.join(home, ".ssh", "id_ed25519");
    await typed(readmeCommand(`pulumi config set --secret --path 'vm-cluster:host.privateKey' -- "$(cat ~/.ssh/id_ed25519)"`));
    let config = await programConfig();
    expect(config.secret.has("vm-cluster:host")).toBe(true);
    expect(JSON.parse(config.all["vm-cluster:host"]!).privateKey).toBe(readFileSync(keyFile, "utf8").trim());

    await typed(readmeCommand("pulumi config set --path 'vm-cluster:host.privateKey' '~/.ssh/id_ed25519'"));
    config = await programConfig();
    const stored = JSON.parse(config.all["vm-cluster:host"]!).privateKey as string;
    expect(stored).toBe("~/.ssh/id_ed25519");
    const model = loadClusterModel(config.all, { readFile: (file) => readFileSync(file, "utf8"), homeDir: home });
    expect(model.sites[0]!.host.type === "ssh" && model.sites[0]!.host.privateKey).toBe(readFileSync(expandHome(stored, home), "utf8"));
  }, 120_000);

  it("`ip -br link` lists the interfaces to choose lan.interface from", async () => {
    const ns = `vmc-readme-${process.pid}`;
    execFileSync("ip", ["netns", "add", ns]);
    try {
      execFileSync("ip", ["-n", ns, "link", "add", "lan0", "type", "bridge"]);
      const listed = (await runShell(readmeCommand("ip -br link"), { cwd: project, netns: ns })).stdout;
      expect(listed.split("\n").map((line) => line.split(/\s+/)[0])).toEqual(expect.arrayContaining(["lo", "lan0"]));
    } finally {
      execFileSync("ip", ["netns", "delete", ns]);
    }
  });
});
