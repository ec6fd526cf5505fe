import { describe, expect, it } from "vitest";
import { BAIL_EXIT_CODE, programCommand, runOutcome, runtimeConfig, type RunRequestFields } from "../../engine/run-command";
import { engineAddressFromArgv } from "../../engine/language-host";

const base: RunRequestFields = {
  monitorAddress: "127.0.0.1:5000",
  engineAddress: "127.0.0.1:6000",
  project: "proj",
  stack: "dev",
  pwd: "/work/proj",
  organization: "organization",
  rootDirectory: "/work/proj",
  programDirectory: "/work/proj",
  entryPoint: ".",
  dryRun: true,
  parallel: 16,
  args: [],
  config: { "proj:name": "a", "aws:region": "x" },
  configSecretKeys: ["proj:secret"],
  typescript: true,
};
const resolve = (id: string, from: string) => `${from}/node_modules/${id}/index.js`;

describe("programCommand", () => {
  it("passes every engine field to cmd/run as the official host does", () => {
    const { args } = programCommand(base, {}, resolve);
    expect(args).toEqual([
      "/work/proj/node_modules/@pulumi/pulumi/cmd/run/index.js",
      "--monitor",
      "127.0.0.1:5000",
      "--engine",
      "127.0.0.1:6000",
      "--organization",
      "organization",
      "--project",
      "proj",
      "--stack",
      "dev",
      "--pwd",
      "/work/proj",
      "--root-directory",
      "/work/proj",
      "--dry-run",
      "--parallel",
      "16",
      ".",
    ]);
  });

  it("omits empty flags and dry-run on up", () => {
    const { args } = programCommand({ ...base, organization: "", dryRun: false, args: ["x"] }, {}, resolve);
    expect(args).not.toContain("--organization");
    expect(args).not.toContain("--dry-run");
    expect(args.slice(-2)).toEqual([".", "x"]);
  });

  it("sets config, secret keys and TypeScript in the environment, keeping the rest", () => {
    const { env } = programCommand(base, { HOME: "/root" }, resolve);
    expect(env.HOME).toBe("/root");
    expect(JSON.parse(env.PULUMI_CONFIG!)).toEqual({ "proj:config:name": "a", "aws:config:region": "x" });
    expect(JSON.parse(env.PULUMI_CONFIG_SECRET_KEYS!)).toEqual(["proj:secret"]);
    expect(env.PULUMI_NODEJS_TYPESCRIPT).toBe("true");
    expect(programCommand({ ...base, typescript: false }, {}, resolve).env.PULUMI_NODEJS_TYPESCRIPT).toBe("false");
  });

  it("says how to fix a missing SDK", () => {
    const missing = () => {
      throw new Error("not found");
    };
    expect(() => programCommand(base, {}, missing)).toThrow(/npm ci/);
  });
});

describe("runtimeConfig", () => {
  it("rejects a key without namespace", () => {
    expect(() => runtimeConfig({ name: "x" })).toThrow(/no namespace/);
  });
  it("keeps colons after the first in the name", () => {
    expect(runtimeConfig({ "p:a:b": "1" })).toEqual({ "p:config:a:b": "1" });
  });
});

describe("runOutcome", () => {
  it("maps exit codes to the RunResponse", () => {
    expect(runOutcome(0, null)).toEqual({ error: "", bail: false });
    expect(runOutcome(BAIL_EXIT_CODE, null)).toEqual({ error: "", bail: true });
    expect(runOutcome(1, null).error).toMatch(/exit code: 1/);
    expect(runOutcome(null, "SIGKILL").error).toMatch(/SIGKILL/);
  });
});

describe("engineAddressFromArgv", () => {
  it("takes the last plain argument after the flags", () => {
    expect(engineAddressFromArgv(["-root=/x", "-tracing=", "127.0.0.1:1234"])).toBe("127.0.0.1:1234");
    expect(engineAddressFromArgv([])).toBe("");
  });
});
