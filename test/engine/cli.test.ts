// The literal `pulumi` commands a user types, on a throw-away copy of a small TypeScript project,
// run through our language host (no official one exists on our machines).
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engineSandbox, projectRoot, pulumiCli, type EngineSandbox } from "../../testbed/engine";
import { CACHE_DIR } from "../../engine/compiled-program";

const secret = `s3cret-${process.pid}-${Date.now()}`;

describe("literal pulumi CLI through our language host", () => {
  let sandbox: EngineSandbox;
  let project: string;

  const pulumi = (...args: string[]) => pulumiCli(project, sandbox.env, args, 180_000);
  const ok = async (...args: string[]) => {
    const r = await pulumi(...args);
    expect(r.code, `pulumi ${args.join(" ")}:\n${r.out}`).toBe(0);
    return r.out;
  };

  beforeAll(async () => {
    sandbox = engineSandbox("cli");
    project = path.join(sandbox.dir, "project");
    cpSync(path.join(projectRoot, "test/fixtures/cli-project"), project, { recursive: true });
    symlinkSync(path.join(projectRoot, "node_modules"), path.join(project, "node_modules"));
    await ok("stack", "init", "dev");
  });
  afterAll(async () => {
    if (project) await pulumi("stack", "rm", "dev", "--yes", "--force");
    sandbox?.cleanup();
  });

  it("reads plain and secret config, previews, ups and destroys", async () => {
    await ok("config", "set", "greeting", "hello there");
    await ok("config", "set", "--secret", "password", secret);
    expect(readFileSync(path.join(project, "Pulumi.dev.yaml"), "utf8")).not.toContain(secret);

    expect(await ok("preview")).toMatch(/\+\s+1 to create/);
    await ok("up", "--yes");

    const outputs = JSON.parse(await ok("stack", "output", "--json"));
    expect(outputs.greeting).toBe("hello there");
    expect(outputs.password).toBe("[secret]");
    expect(JSON.parse(await ok("stack", "output", "--json", "--show-secrets")).password).toBe(secret);

    const stateDir = path.join(sandbox.backendDir, ".pulumi", "stacks", "cli-check");
    const states = readdirSync(stateDir).filter((f) => f.endsWith(".json"));
    expect(states.length).toBeGreaterThan(0);
    for (const f of states) expect(readFileSync(path.join(stateDir, f), "utf8")).not.toContain(secret);

    expect(await ok("up", "--yes")).toMatch(/1 unchanged/);
    expect(await ok("destroy", "--yes")).toMatch(/1 deleted/);
  });

  it("runs the program as JavaScript compiled once per state of its sources, and compiles an edit", async () => {
    const compiles = () => readdirSync(path.join(project, CACHE_DIR)).filter((d) => existsSync(path.join(project, CACHE_DIR, d, "index.js")));
    await ok("config", "set", "greeting", "compiled");
    await ok("up", "--yes");
    const first = compiles();
    expect(first).toHaveLength(1);
    await ok("preview");
    expect(compiles()).toEqual(first);
    // An edit is run as edited: a compile of its own.
    appendFileSync(path.join(project, "index.ts"), 'export const edited = "yes";\n');
    await ok("up", "--yes");
    expect(JSON.parse(await ok("stack", "output", "--json")).edited).toBe("yes");
    expect(compiles()).toHaveLength(2);
    expect(await ok("destroy", "--yes")).toMatch(/deleted/);
    await ok("config", "set", "greeting", "hello there");
  });

  it("runs the program transpiled only, as the wrapper sets; PULUMI_NODEJS_TRANSPILE_ONLY=false type-checks it", async () => {
    await ok("config", "set", "loose", "true");
    try {
      expect(await ok("preview")).not.toMatch(/TS2322/);
      const checked = await pulumiCli(project, { ...sandbox.env, PULUMI_NODEJS_TRANSPILE_ONLY: "false" }, ["preview"], 180_000);
      expect(checked.code).not.toBe(0);
      expect(checked.out).toMatch(/TS2322/);
    } finally {
      await ok("config", "rm", "loose");
    }
  });

  it("uses the backend of a pulumi login over the project's file state, and the file state without one", async () => {
    const home = path.join(sandbox.dir, "login-home");
    const url = "postgres://nobody@127.0.0.1:1/none?sslmode=disable";
    mkdirSync(home);
    // No backend URL of the test's: the wrapper chooses (an empty one counts as none).
    const env = { ...sandbox.env, PULUMI_BACKEND_URL: "", PULUMI_HOME: home };
    const fileState = await pulumiCli(project, env, ["whoami", "-v"], 60_000);
    expect(fileState.out).toContain(`Backend URL: file://${path.join(projectRoot, ".state")}\n`);
    writeFileSync(path.join(home, "credentials.json"), JSON.stringify({ current: url, accessTokens: { [url]: "" } }));
    const loggedIn = await pulumiCli(project, env, ["whoami", "-v"], 60_000);
    expect(loggedIn.code).not.toBe(0);
    expect(loggedIn.out).toContain(`unable to open state database "${url}"`);
  });

  it("fails `up` with the program's own message when it throws", async () => {
    await ok("config", "set", "fail", "true");
    const r = await pulumi("up", "--yes");
    expect(r.code).not.toBe(0);
    expect(r.out).toContain("refusing on purpose: hello there");
  });
});
