// The host resources through the real engine (Automation API, inline program) on a host of the
// test's own: up, a rule deleted by hand shows as drift on refresh, up restores it, destroy
// leaves the host as it was; without KVM the check fails first and nothing changes.
import { createRequire } from "node:module";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation";
import { clusterRules, firewallTag, ruleArgv, type DomainType } from "../../host";
import { engineSandbox, projectRoot, toolsRoot, type EngineSandbox } from "../../testbed/engine";
import { createHostBed, type HostBed, type HostSnapshot } from "./host-bed";

/**
 * The engine stores each provider as its serialized closure. Under vitest, imported modules are
 * ES module namespaces, which the serializer cannot tell from plain objects (it then tries to
 * serialize node:child_process itself). `pulumi` loads a program through ts-node as CommonJS:
 * load the resources the same way, with the same ts-node and TypeScript.
 */
function loadHostAsPulumiDoes(): typeof import("../../host") {
  const cjsRequire = createRequire(__filename);
  cjsRequire("../../tools/register-ts.js").registerTypeScript();
  return cjsRequire("../../host");
}
const { FirewallBackend, FirewallRules, IpForward, VirtualizationCheck } = loadHostAsPulumiDoes();

const anemoi = { cluster: "anemoi", lanInterface: "eno1", bridge: "kvmbr0", clusterCidr: "172.17.2.0/24", lanCidr: "172.17.1.0/24" };

let bed: HostBed;
let before: HostSnapshot;
let sandbox: EngineSandbox;
let pulumiCommand: PulumiCommand;
const stacks: Stack[] = [];

/** The host part of a cluster: the check first, everything else after it. */
function program(domainType: DomainType) {
  return async () => {
    const connection = bed.spec;
    const check = new VirtualizationCheck("check", { connection, domainType, kvmDevice: path.join(bed.dir, "no-kvm") });
    const after = { dependsOn: [check] };
    const ipForward = new IpForward("ip-forward", { connection, sysctlDir: bed.sysctlDir, stateDir: bed.stateDir }, after);
    new FirewallBackend("firewall-backend", { connection, networkConf: bed.networkConf, stateDir: bed.stateDir }, after);
    const rules = new FirewallRules("rules", { connection, ...anemoi }, { dependsOn: [check, ipForward] });
    return { rules: rules.rules, user: pulumi.output(`${pulumi.getProject()}.${pulumi.getStack()}`) };
  };
}

async function newStack(stackName: string, domainType: DomainType): Promise<Stack> {
  const stack = await LocalWorkspace.createStack(
    { projectName: "host-engine", stackName, program: program(domainType) },
    { workDir: projectRoot, pulumiCommand, envVars: sandbox.env },
  );
  stacks.push(stack);
  return stack;
}

beforeAll(async () => {
  bed = createHostBed("hosteng");
  before = bed.snapshot();
  sandbox = engineSandbox("host");
  pulumiCommand = await PulumiCommand.get({ root: toolsRoot });
});

afterAll(async () => {
  for (const s of stacks) {
    await s.destroy().catch(() => undefined);
    await s.workspace.removeStack(s.name, { force: true }).catch(() => undefined);
  }
  sandbox?.cleanup();
  bed?.cleanup();
});

describe("host resources through the engine", () => {
  let stack: Stack;
  const masquerade = () => ruleArgv("check", clusterRules(anemoi)[2]!, firewallTag("anemoi"));

  it("up prepares the host, with the emulation warning", async () => {
    stack = await newStack("dev", "qemu");
    let output = "";
    const up = await stack.up({ onOutput: (s) => (output += s) });
    expect(up.summary.resourceChanges).toEqual({ create: 5 });
    expect(output).toMatch(/warning: domainType qemu: the guests run under software emulation/);
    expect(up.outputs.rules!.value).toHaveLength(3);
    expect(bed.code(masquerade())).toBe(0);
    expect(bed.sh(["sysctl", "-n", "net.ipv4.ip_forward"]).trim()).toBe("1");
    expect(bed.sh(["ls", path.join(bed.stateDir, "ip-forward", "users")]).trim()).toBe(up.outputs.user!.value);
  });

  it("a second up changes nothing", async () => {
    expect((await stack.up()).summary.resourceChanges).toEqual({ same: 5 });
  });

  it("refresh shows a rule deleted by hand as drift, and the next up adds it back", async () => {
    bed.sh(ruleArgv("delete", clusterRules(anemoi)[2]!, firewallTag("anemoi")));
    const refresh = await stack.refresh();
    expect(refresh.summary.resourceChanges).toMatchObject({ update: 1 });
    const preview = await stack.preview();
    expect(preview.changeSummary).toMatchObject({ update: 1 });
    const up = await stack.up();
    expect(up.summary.resourceChanges).toMatchObject({ update: 1 });
    expect(bed.code(masquerade())).toBe(0);
  });

  it("destroy leaves the host as it was", async () => {
    const destroy = await stack.destroy();
    expect(destroy.summary.resourceChanges).toEqual({ delete: 5 });
    expect(bed.snapshot()).toEqual(before);
  });
});

describe("a host without KVM, domainType kvm", () => {
  it("fails at the check with the clear message, and nothing changes", async () => {
    const stack = await newStack("nokvm", "kvm");
    const up = stack.up();
    await expect(up).rejects.toThrow(/this host cannot run KVM guests: .*no-kvm does not exist.*domainType: qemu/s);
    expect(bed.snapshot()).toEqual(before);
    const state = await stack.exportStack();
    expect((state.deployment.resources ?? []).map((r: { type: string }) => r.type)).not.toContain("pulumi-nodejs:dynamic/vm-cluster:IpForward");
  });
});
