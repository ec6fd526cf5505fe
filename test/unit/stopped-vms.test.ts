// What waits for a guest and what changes it, for a VM kept shut down (`vms[].running: false`) and
// for a domain being changed in preview, when its start time is not known yet.
import { describe, expect, it } from "vitest";
import { guestSettingsProvider, type GuestSettingsInputs } from "../../guest/guest-settings";
import { waitAgainFor, type ReadinessInputs } from "../../guest/readiness";
import { UNKNOWN } from "../../provider/unknown";

const ready: ReadinessInputs = {
  target: { connection: { type: "local", sudo: false } } as ReadinessInputs["target"],
  vm: "boreas",
  domain: "anemoi-boreas",
  domainStartedAt: "2026-12-01T00:00:00.000Z",
  domainId: "anemoi-boreas",
  domainRestart: "",
  running: true,
  network: "anemoi",
  mac: "52:54:00:00:00:01",
  ip: "172.17.2.2",
  consoleLog: "/tmp/console.log",
  hostPublicKey: "ssh-ed25519 AAAA host",
  provisionerPrivateKey: "key",
  timeoutSeconds: 60,
};

describe("readiness in preview, while its domain changes", () => {
  const preview = (over: Partial<ReadinessInputs>) => waitAgainFor(ready, { ...ready, domainStartedAt: UNKNOWN, ...over });

  it("is not waited for again when the domain only plugs a disk in (no restart)", () => {
    expect(preview({})).toEqual([]);
  });
  it("is waited for again when the domain restarts, or is made anew", () => {
    expect(preview({ domainRestart: "graceful shutdown and start of anemoi-boreas: memoryMiB 1024 → 2048" })).toEqual(["domainStartedAt"]);
    expect(preview({ domainId: UNKNOWN })).toEqual(["domainStartedAt"]);
  });
  it("once up knows the start time, follows it", () => {
    expect(waitAgainFor(ready, { ...ready })).toEqual([]);
    expect(waitAgainFor(ready, { ...ready, domainStartedAt: "2026-12-02T00:00:00.000Z" })).toEqual(["domainStartedAt"]);
  });
  it("is made anew when the VM stops or starts; state from before the key counts as running", () => {
    expect(waitAgainFor(ready, { ...ready, running: false })).toContain("running");
    const older = { ...ready, running: undefined } as unknown as ReadinessInputs;
    expect(waitAgainFor(older, ready)).toEqual([]);
  });
});

describe("guest settings of a stopped VM", () => {
  const settings: GuestSettingsInputs = {
    target: ready.target,
    vm: "boreas",
    ready: "anemoi-boreas",
    network: "anemoi",
    ip: "172.17.2.2",
    hostPublicKey: "ssh-ed25519 AAAA host",
    provisionerPrivateKey: "key",
    fqdn: "boreas.anemoi.internal",
    dataDisks: [],
    rootAuthorizedKeys: ["ssh-ed25519 AAAA user"],
    caFiles: [],
    consolePasswordHash: "",
    disableCloudInitAfterBoot: false,
    diskBytes: 1,
    diskCreatedAt: "2026-12-01T00:00:00.000Z",
    running: true,
  };
  const changed = { ...settings, rootAuthorizedKeys: ["ssh-ed25519 BBBB other"] };

  it("records the stop without reaching the guest, keeping the settings the guest has", async () => {
    const stopped = { ...changed, running: false };
    expect((await guestSettingsProvider.diff!("boreas", settings, stopped)).changes).toBe(true);
    const outs = (await guestSettingsProvider.update!("boreas", settings, stopped)).outs as GuestSettingsInputs;
    expect(outs.running).toBe(false);
    expect(outs.rootAuthorizedKeys).toEqual(settings.rootAuthorizedKeys);
    // Further changes while stopped wait: nothing to do until it runs.
    expect((await guestSettingsProvider.diff!("boreas", outs, { ...stopped, consolePasswordHash: "$6$x" })).changes).toBe(false);
    // Started again: what changed meanwhile is applied.
    expect((await guestSettingsProvider.diff!("boreas", outs, changed)).changes).toBe(true);
  });
});
