// `pulumi preview` of the anemoi stack with the real engine, on a throw-away copy of the project:
// the whole tree is planned (every provider serializes as `pulumi up` would need it), and a broken
// config fails listing every problem, with nothing planned.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyProject, engineSandbox, projectRoot, pulumiCli, toolsRoot, type EngineSandbox } from "../../testbed/engine";
import { readmeCommand, runShell } from "../support/readme";

let sandbox: EngineSandbox;
let project: string;
let env: Record<string, string>;

beforeAll(async () => {
  sandbox = engineSandbox("preview");
  project = path.join(sandbox.dir, "project");
  copyProject(project);
  copyFileSync(path.join(projectRoot, "Pulumi.anemoi.yaml"), path.join(project, "Pulumi.anemoi.yaml"));
  // The files the stack names under ~ (the seed's ssh_pub_key and domain_ca_cert).
  const home = path.join(sandbox.dir, "home");
  mkdirSync(path.join(home, ".ssh"), { recursive: true });
  execFileSync("ssh-keygen", ["-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", path.join(home, ".ssh", "anemoi_rsa")]);
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=anemoi CA",
    "-keyout", path.join(home, "ca.key"), "-out", path.join(home, "ca.crt"), "-days", "2"], { stdio: "ignore" });
  env = { ...sandbox.env, HOME: home };
  // The project folder as set-up leaves it: its CLI under .tools/.
  symlinkSync(toolsRoot, path.join(project, ".tools"));
});
afterAll(() => sandbox?.cleanup());

describe("pulumi preview of Pulumi.anemoi.yaml", () => {
  let planned: string;

  it("runs as README's \"Running pulumi\" section types it", async () => {
    const typed = [
      readmeCommand(`export PATH="$PWD/.tools/bin:$PATH"`),
      readmeCommand("pulumi stack init anemoi"),
      readmeCommand("pulumi preview"),
    ];
    const r = await runShell(["set -e", ...typed].join("\n"), { cwd: project, env, timeoutMs: 240_000 });
    expect(r.code, r.out).toBe(0);
    planned = /Resources:\s+\+ (\d+) to create/.exec(r.stdout)?.[1] ?? `none in:\n${r.out}`;
    // The same CLI through npm, for a shell without the PATH line.
    const viaNpm = await runShell(readmeCommand("npm run pulumi -- <args>", { "<args>": "stack ls" }), { cwd: project, env });
    expect(viaNpm.code, viaNpm.out).toBe(0);
    expect(viaNpm.stdout).toMatch(/^anemoi\*\s/m);
  }, 300_000);

  it("plans the whole cluster", async () => {
    const r = await pulumiCli(project, env, ["preview", "--json"]);
    expect(r.code, r.out).toBe(0);
    const steps = (JSON.parse(r.stdout).steps as { op: string; urn: string }[]).map((s) => {
      const [type, name] = s.urn.split("::").slice(-2);
      return { op: s.op, type: type.split("$").pop()!, name };
    });
    expect(steps.every((s) => s.op === "create")).toBe(true);
    const count = (suffix: string) => steps.filter((s) => s.type.endsWith(suffix)).length;
    expect(count("index:Cluster")).toBe(1);
    expect(count(":VirtualizationCheck")).toBe(1);
    expect(count(":FirewallRules")).toBe(1);
    expect(count(":StoragePool")).toBe(1);
    expect(count(":NatNetwork")).toBe(1);
    expect(count(":BaseImage")).toBe(1);
    expect(count(":KnownHostsFile")).toBe(1);
    for (const kind of ["index:VirtualMachine", ":Domain", ":Disk", ":Seed", ":Readiness", ":GuestSettings"]) expect(count(kind), kind).toBe(4);
    expect(steps.map((s) => s.name)).toContain("anemoi-boreas-domain");
    // The text preview of README's commands planned the same.
    expect(planned).toBe(String(steps.length));
  });

  it("with a broken config fails, lists every problem with its key, and plans nothing", async () => {
    const file = path.join(project, "Pulumi.anemoi.yaml");
    const good = readFileSync(file, "utf8");
    writeFileSync(file, good.replace("cidr: 172.17.2.0/24", "cidr: 172.17.2.0/33").replace("- name: notus", "- name: Notus_1"));
    try {
      const r = await pulumiCli(project, env, ["preview"]);
      expect(r.code).not.toBe(0);
      expect(r.out).toMatch(/nothing was changed/);
      expect(r.out).toContain("vm-cluster:network.cidr");
      expect(r.out).toContain("vm-cluster:vms[2].name");
      expect(r.out).not.toMatch(/vm-cluster:index:Cluster/);
    } finally {
      writeFileSync(file, good);
    }
  });
});
