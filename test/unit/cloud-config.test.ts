// A user's own cloud-config (issue 21, part 5): read from a file or inline, the VM's over the
// defaults', merged into our user-data after what we set, and a change seen by the seed's check.
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it, vi } from "vitest";
import { parse } from "yaml";
import { userData, type UserDataArgs } from "../../cloudinit";
import { seedProvider, type SeedInputs } from "../../libvirt/seed";
import { parseClusterConfig, type ClusterModel } from "../../model";
import { mergeCloudConfigs, type CloudConfig } from "../../model/cloud-config";
import { generateHostKey } from "../../secrets/host-key";
import { baseRaw, fakeIo } from "./fixtures/cluster-config";
import { buildCluster, mockState } from "./fixtures/mock-cluster";

function modelWith(edit: (raw: Record<string, any>) => void): ClusterModel {
  const raw = baseRaw() as Record<string, any>;
  edit(raw);
  const result = parseClusterConfig(raw, fakeIo());
  if (!result.ok) throw new Error(result.problems.join("\n"));
  return result.model;
}

const empty: CloudConfig = { write_files: [], runcmd: [], bootcmd: [], packages: [], users: [] };

describe("reading a cloud-config", () => {
  it("takes it from a file, from a mapping and from YAML text alike, each module's entries in order", () => {
    const fromFile = modelWith((r) => (r.vms[0].cloudConfig = { file: "~/lab.yaml" })).vms[0]!.cloudConfig;
    const fromMapping = modelWith(
      (r) =>
        (r.vms[0].cloudConfig = {
          inline: { runcmd: [["modprobe", "br_netfilter"]], write_files: [{ path: "/etc/modules-load.d/k8s.conf", content: "br_netfilter" }] },
        }),
    ).vms[0]!.cloudConfig;
    const fromText = modelWith(
      (r) =>
        (r.vms[0].cloudConfig = {
          inline: "runcmd: [[modprobe, br_netfilter]]\nwrite_files: [{path: /etc/modules-load.d/k8s.conf, content: br_netfilter}]\n",
        }),
    ).vms[0]!.cloudConfig;
    const expected = { ...empty, runcmd: [["modprobe", "br_netfilter"]], write_files: [{ path: "/etc/modules-load.d/k8s.conf", content: "br_netfilter" }] };
    expect(fromFile).toEqual(expected);
    expect(fromMapping).toEqual(expected);
    expect(fromText).toEqual(expected);
  });

  it("leaves a VM without one, and gives every VM the defaults' one", () => {
    expect(modelWith(() => undefined).vms[0]!.cloudConfig).toBeUndefined();
    const model = modelWith((r) => (r.defaults = { cloudConfig: { inline: { packages: ["chrony"] } } }));
    for (const vm of model.vms) expect(vm.cloudConfig).toEqual({ ...empty, packages: ["chrony"] });
  });
});

describe("mergeCloudConfigs", () => {
  const defaults: CloudConfig = {
    write_files: [
      { path: "/etc/a.conf", content: "defaults" },
      { path: "/etc/b.conf", content: "defaults" },
    ],
    runcmd: ["echo defaults"],
    bootcmd: ["echo boot defaults"],
    packages: ["chrony"],
    users: [
      { name: "ops", shell: "/bin/bash" },
      { name: "ci", shell: "/bin/sh" },
    ],
  };
  const vm: CloudConfig = {
    write_files: [{ path: "/etc/./b.conf", content: "vm" }],
    runcmd: [["echo", "vm"]],
    bootcmd: [],
    packages: [["jq", "1.6"]],
    users: [{ name: "ci", shell: "/bin/bash" }],
  };

  it("puts the VM's commands and packages after the defaults', and keeps the VM's file or user where both have one", () => {
    expect(mergeCloudConfigs(defaults, vm)).toEqual({
      write_files: [
        { path: "/etc/a.conf", content: "defaults" },
        { path: "/etc/./b.conf", content: "vm" },
      ],
      runcmd: ["echo defaults", ["echo", "vm"]],
      bootcmd: ["echo boot defaults"],
      packages: ["chrony", ["jq", "1.6"]],
      users: [
        { name: "ops", shell: "/bin/bash" },
        { name: "ci", shell: "/bin/bash" },
      ],
    });
  });

  it("is either one alone when the other is missing", () => {
    expect(mergeCloudConfigs(undefined, vm)).toBe(vm);
    expect(mergeCloudConfigs(defaults, undefined)).toBe(defaults);
    expect(mergeCloudConfigs(undefined, undefined)).toBeUndefined();
  });
});

describe("userData with the user's cloud-config", () => {
  const parse11 = (text: string) => parse(text, { version: "1.1" });
  const base: UserDataArgs = {
    hostname: "boreas",
    fqdn: "boreas.anemoi.internal",
    rootAuthorizedKeys: [generateHostKey("admin@example").publicKey],
    hostKeys: { ed25519: generateHostKey("root@boreas") },
    disableCloudInitAfterBoot: true,
  };
  const own: CloudConfig = {
    write_files: [{ path: "/etc/modules-load.d/k8s.conf", content: "br_netfilter\n", permissions: "0644" }],
    runcmd: ["touch /root/marker", ["sysctl", "--system"]],
    bootcmd: [["modprobe", "overlay"]],
    packages: ["chrony"],
    users: [{ name: "ops", groups: ["sudo"], ssh_authorized_keys: ["ssh-ed25519 AAAA ops"] }],
  };

  it("adds the user's files after ours, their commands after ours and before cloud-init is switched off, their users after root", () => {
    const plain = parse11(userData(base));
    const doc = parse11(userData({ ...base, cloudConfig: own }));
    expect(doc.write_files).toEqual([...plain.write_files, own.write_files[0]]);
    expect(doc.runcmd).toEqual([...plain.runcmd.slice(0, -1), "touch /root/marker", ["sysctl", "--system"], plain.runcmd.at(-1)]);
    expect(doc.runcmd.at(-1)).toEqual(["touch", "/etc/cloud/cloud-init.disabled"]);
    expect(doc.users).toEqual([plain.users[0], own.users[0]]);
    expect(doc.bootcmd).toEqual([["modprobe", "overlay"]]);
    expect(doc.packages).toEqual(["chrony"]);
    // What we own stays ours.
    for (const key of ["hostname", "fqdn", "ssh_keys", "disable_root", "ssh_pwauth"]) expect(doc[key], key).toEqual(plain[key]);
  });

  it("writes no bootcmd or packages key unless the user gives some (a packages list makes cloud-init run apt)", () => {
    const doc = parse11(userData({ ...base, cloudConfig: { ...own, bootcmd: [], packages: [] } }));
    expect(Object.keys(doc)).not.toContain("bootcmd");
    expect(Object.keys(doc)).not.toContain("packages");
    expect(userData({ ...base, cloudConfig: empty })).toBe(userData(base));
  });
});

describe("the seed's check", () => {
  const inputs = (cloudConfigDigest?: string) =>
    ({
      pool: "anemoi-pool",
      name: "anemoi-boreas-seed.iso",
      userData: "#cloud-config\n",
      metaData: "",
      networkConfig: "",
      cloudConfigDigest,
    }) as unknown as SeedInputs;

  it("says when the user's cloud-config differs from the one the seed was made with, never for a new seed", async () => {
    const changed = async (olds: Partial<SeedInputs>, news: SeedInputs) => (await seedProvider.check!(olds as SeedInputs, news)).inputs?.cloudConfigChanged;
    expect(await changed({}, inputs("a"))).toBe(false);
    expect(await changed(inputs("a"), inputs("a"))).toBe(false);
    expect(await changed(inputs("a"), inputs("b"))).toBe(true);
    expect(await changed(inputs(""), inputs("a"))).toBe(true);
    // A seed from before cloudConfig had none.
    expect(await changed(inputs(undefined), inputs(""))).toBe(false);
    expect(await changed(inputs(undefined), inputs("a"))).toBe(true);
  });
});

describe("a VM whose cloud-config changed", () => {
  it("is warned of, by name, with the command that resets it to a fresh first boot", async () => {
    // As the engine hands back the seed of zephyrus after its check saw a new cloud-config.
    pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          const state = mockState(args.type, args.inputs);
          return { id: `${args.name}-id`, state: args.name === "anemoi-zephyrus-seed" ? { ...state, cloudConfigChanged: true } : state };
        },
        call: (args) => args.inputs,
      },
      "vm-cluster",
      "test",
      false,
    );
    const warn = vi.spyOn(pulumi.log, "warn").mockResolvedValue();
    try {
      await buildCluster(modelWith((r) => (r.vms[1].cloudConfig = { inline: { runcmd: ["true"] } })));
      await new Promise((done) => setTimeout(done, 50));
      const warnings = warn.mock.calls.map(([message]) => message).filter((m) => m.includes("cloud-config"));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/^the cloud-config of zephyrus changed: .* keeps what its first boot did/);
      expect(warnings[0]).toMatch(/run: pulumi up --replace 'urn:pulumi:test::vm-cluster::[^']*::anemoi-zephyrus-disk'$/);
    } finally {
      warn.mockRestore();
    }
  });
});
