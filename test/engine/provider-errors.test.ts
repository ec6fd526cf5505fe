// What a user reads when a provider operation fails: the engine's diagnostics name the command,
// the host and libvirt's own words, never "undefined" (issue 18). Real engine, real libvirtd.
import { cpSync, symlinkSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engineSandbox, projectRoot, pulumiCli, type EngineSandbox } from "../../testbed/engine";
import { useLibvirt } from "../support/libvirt-fixture";

const lv = useLibvirt();
const POOL = "vmc-errors-no-such-pool";

describe("a failing provider operation", () => {
  let sandbox: EngineSandbox;
  let project: string;
  const pulumi = (...args: string[]) => pulumiCli(project, sandbox.env, args, 180_000);

  beforeAll(async () => {
    sandbox = engineSandbox("errors");
    project = path.join(sandbox.dir, "project");
    cpSync(path.join(projectRoot, "test/fixtures/failing-provider"), project, { recursive: true });
    symlinkSync(path.join(projectRoot, "node_modules"), path.join(project, "node_modules"));
    for (const args of [
      ["stack", "init", "dev"],
      ["config", "set", "projectRoot", projectRoot],
      ["config", "set", "netns", lv.netns()],
      ["config", "set", "pool", POOL],
    ]) {
      const r = await pulumi(...args);
      expect(r.code, r.out).toBe(0);
    }
  });
  afterAll(async () => {
    if (project) await pulumi("stack", "rm", "dev", "--yes", "--force");
    sandbox?.cleanup();
  });

  it("shows the virsh command, the host and libvirt's reason", async () => {
    expect((await pulumi("config", "set", "case", "virsh")).code).toBe(0);
    const r = await pulumi("up", "--yes");
    expect(r.code, r.out).not.toBe(0);
    expect(r.out).toMatch(
      new RegExp(
        `\`virsh -q -c qemu:///system vol-create ${POOL} \\S+\` on this machine \\(network namespace ${lv.netns()}\\) failed \\(exit 1\\): error: .*${POOL}`,
      ),
    );
    expect(r.out).not.toMatch(/error: undefined/);
  });

  it("names the operation when a provider throws something that is not an Error", async () => {
    expect((await pulumi("config", "set", "case", "non-error")).code).toBe(0);
    const r = await pulumi("up", "--yes");
    expect(r.code, r.out).not.toBe(0);
    expect(r.out).toContain("fixture create failed: the host said no");
    expect(r.out).not.toMatch(/error: undefined/);
  });
});
