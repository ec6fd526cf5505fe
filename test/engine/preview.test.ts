// `pulumi preview` of the anemoi stack with the real engine, on a throw-away copy of the project:
// the whole tree is planned (every provider serializes as `pulumi up` would need it), and a broken
// config fails listing every problem, with nothing planned.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyProject, engineSandbox, projectRoot, pulumiCli, runProcess, toolsRoot, type EngineSandbox } from "../../testbed/engine";
import { throwawayCa } from "../../testbed/ca";
import { readmeCommand, runShell } from "../support/readme";

let sandbox: EngineSandbox;
let project: string;
let env: Record<string, string>;

interface PlannedStep {
  op: string;
  urn: string;
  /** The inputs as planned, without the serialized provider code; the program's folder as <program>. */
  inputs: unknown;
}

/** `pulumi preview --json` of the program in `dir`, step by step in URN order. */
async function plan(dir: string, withEnv = env): Promise<PlannedStep[]> {
  const r = await pulumiCli(dir, withEnv, ["preview", "--json"]);
  expect(r.code, r.out).toBe(0);
  const steps = JSON.parse(r.stdout).steps as { op: string; urn: string; newState?: { inputs?: Record<string, unknown> } }[];
  return steps
    .map(({ op, urn, newState }) => {
      const { __provider: _code, ...inputs } = newState?.inputs ?? {};
      return { op, urn, inputs: JSON.parse(JSON.stringify(inputs).split(dir).join("<program>")) };
    })
    .sort((a, b) => a.urn.localeCompare(b.urn));
}

// The stack program's plan, made once for the tests that read it.
let stackPlan: Promise<PlannedStep[]> | undefined;
const planOfStack = () => (stackPlan ??= plan(project));

beforeAll(async () => {
  sandbox = engineSandbox("preview");
  project = path.join(sandbox.dir, "project");
  copyProject(project);
  copyFileSync(path.join(projectRoot, "Pulumi.anemoi.yaml"), path.join(project, "Pulumi.anemoi.yaml"));
  // The files the stack names under ~ (the seed's ssh_pub_key and domain_ca_cert).
  const home = path.join(sandbox.dir, "home");
  mkdirSync(path.join(home, ".ssh"), { recursive: true });
  execFileSync("ssh-keygen", ["-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", path.join(home, ".ssh", "anemoi_rsa")]);
  writeFileSync(path.join(home, "ca.crt"), throwawayCa("anemoi CA"));
  env = { ...sandbox.env, HOME: home };
  // The project folder as set-up leaves it: its CLI under .tools/.
  symlinkSync(toolsRoot, path.join(project, ".tools"));
});
afterAll(() => sandbox?.cleanup());

describe("pulumi preview of Pulumi.anemoi.yaml", () => {
  let planned: string;

  it('runs as README\'s "Running pulumi" section types it', async () => {
    const typed = [readmeCommand(`export PATH="$PWD/.tools/bin:$PATH"`), readmeCommand("pulumi stack init anemoi"), readmeCommand("pulumi preview")];
    const r = await runShell(["set -e", ...typed].join("\n"), { cwd: project, env, timeoutMs: 240_000 });
    expect(r.code, r.out).toBe(0);
    planned = /Resources:\s+\+ (\d+) to create/.exec(r.stdout)?.[1] ?? `none in:\n${r.out}`;
    // The same CLI through npm, for a shell without the PATH line.
    const viaNpm = await runShell(readmeCommand("npm run pulumi -- <args>", { "<args>": "stack ls" }), { cwd: project, env });
    expect(viaNpm.code, viaNpm.out).toBe(0);
    expect(viaNpm.stdout).toMatch(/^anemoi\*\s/m);
  }, 300_000);

  it("plans the whole cluster", async () => {
    const steps = (await planOfStack()).map((s) => {
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

describe("a program of its own that builds the cluster through the library (test/fixtures/library-program)", () => {
  const fixture = path.join(projectRoot, "test/fixtures/library-program");
  // What this test makes in the fixture's folder: the by-path dependency, the stack's file, README's example.
  const clean = () => {
    for (const made of ["node_modules", "Pulumi.anemoi.yaml", "readme-example.ts"]) rmSync(path.join(fixture, made), { recursive: true, force: true });
  };

  beforeAll(async () => {
    clean();
    const build = await runShell(readmeCommand("npm run build:lib"), { cwd: projectRoot, timeoutMs: 120_000 });
    expect(build.code, build.out).toBe(0);
    // The package by path, as its package.json says (file:../../..): npm links it, nothing is downloaded.
    const install = await runProcess("npm", ["install", "--offline", "--no-audit", "--no-fund", "--no-package-lock"], { cwd: fixture, timeoutMs: 120_000 });
    expect(install.code, install.out).toBe(0);
  }, 300_000);
  afterAll(clean);

  it("type-checks against the built declarations: ClusterArgs takes the stack file's values as typed args, and README's example", async () => {
    const examples = [...readFileSync(path.join(projectRoot, "README.md"), "utf8").matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(examples).toHaveLength(1);
    writeFileSync(path.join(fixture, "readme-example.ts"), examples[0]!);
    const tsc = await runProcess(path.join(projectRoot, "node_modules/.bin/tsc"), ["-p", path.join(fixture, "tsconfig.json"), "--noEmit"], { cwd: fixture });
    expect(tsc.code, tsc.out).toBe(0);
  });

  it("plans with `pulumi preview` exactly what the stack program plans for Pulumi.anemoi.yaml", async () => {
    // A state folder of its own: both are project vm-cluster, stack anemoi.
    const state = path.join(sandbox.dir, "library-state");
    mkdirSync(state);
    const ownEnv = { ...env, PULUMI_BACKEND_URL: `file://${state}` };
    const init = await pulumiCli(fixture, ownEnv, ["stack", "init", "anemoi"]);
    expect(init.code, init.out).toBe(0);
    const [library, stack] = [await plan(fixture, ownEnv), await planOfStack()];
    expect(library.length).toBeGreaterThan(40);
    expect(library.map((s) => s.urn)).toEqual(stack.map((s) => s.urn));
    expect(library).toEqual(stack);
  }, 600_000);
});
