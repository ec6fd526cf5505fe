// The engine through the Automation API with an inline program: two dynamic-provider resources,
// one with a secret output, from preview to destroy against a real CLI and file backend.
import { readFileSync, readdirSync, statSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation";
import { engineSandbox, projectRoot, toolsRoot, type EngineSandbox } from "../../testbed/engine";

// Provider methods run in the provider process from serialized closures: they capture nothing.
const noteProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs) {
    return { id: `note-${inputs.text}`, outs: { text: inputs.text } };
  },
  async diff(_id, olds, news) {
    return { changes: olds.text !== news.text, replaces: olds.text !== news.text ? ["text"] : [] };
  },
};
const tokenProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs) {
    const token = require("node:crypto").randomBytes(24).toString("hex");
    return { id: `token-${inputs.label}`, outs: { label: inputs.label, token } };
  },
  async diff(_id, olds, news) {
    return { changes: olds.label !== news.label, replaces: olds.label !== news.label ? ["label"] : [] };
  },
};

class Note extends pulumi.dynamic.Resource {
  declare readonly text: pulumi.Output<string>;
  constructor(name: string, text: string) {
    super(noteProvider, name, { text }, {});
  }
}
class Token extends pulumi.dynamic.Resource {
  declare readonly token: pulumi.Output<string>;
  constructor(name: string, label: string) {
    super(tokenProvider, name, { label, token: undefined }, { additionalSecretOutputs: ["token"] });
  }
}

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? allFiles(p) : [p];
  });
}

describe("Automation API, inline program, real engine", () => {
  let sandbox: EngineSandbox;
  let stack: Stack;

  beforeAll(async () => {
    sandbox = engineSandbox("auto");
    const pulumiCommand = await PulumiCommand.get({ root: toolsRoot });
    stack = await LocalWorkspace.createStack(
      {
        projectName: "engine-check",
        stackName: "dev",
        program: async () => {
          const note = new Note("note", "hello");
          const token = new Token("token", "api");
          return { text: note.text, token: token.token };
        },
      },
      { workDir: projectRoot, pulumiCommand, envVars: sandbox.env },
    );
  });

  afterAll(async () => {
    await stack?.workspace.removeStack("dev", { force: true }).catch(() => undefined);
    sandbox?.cleanup();
  });

  it("previews two creates", async () => {
    const preview = await stack.preview();
    expect(preview.changeSummary.create).toBe(3); // the stack itself and two resources
  });

  it("creates both, keeps the token secret, and a second up changes nothing", async () => {
    const up = await stack.up();
    expect(up.summary.result).toBe("succeeded");
    expect(up.summary.resourceChanges?.create).toBe(3);
    expect(up.outputs.text.value).toBe("hello");
    expect(up.outputs.token.secret).toBe(true);
    const token: string = up.outputs.token.value;
    expect(token).toMatch(/^[0-9a-f]{48}$/);

    const stateFiles = allFiles(sandbox.backendDir).filter((f) => f.endsWith(".json"));
    expect(stateFiles.length).toBeGreaterThan(0);
    for (const f of stateFiles) {
      expect(readFileSync(f, "utf8")).not.toContain(token);
    }
    expect(stateFiles.map((f) => readFileSync(f, "utf8")).join("\n")).toContain("hello");

    const again = await stack.up();
    expect(again.summary.resourceChanges).toEqual({ same: 3 });
  });

  it("destroys both", async () => {
    const destroy = await stack.destroy();
    expect(destroy.summary.resourceChanges?.delete).toBe(3);
    const state = await stack.exportStack();
    expect(state.deployment.resources ?? []).toHaveLength(0);
  });
});
