// The pure parts of fault handling: the provider process guard, a disk too small for its image,
// the taps a recreated network plugs back in, the pool UUID that proves ownership, and messages
// that name the cause when the host cannot be reached.
import { describe, expect, it, vi } from "vitest";
import { MAX_DEBUG_CHARS, SECRET_SIGNATURE, WITHHELD, withholdSecretsFromDebugLog } from "../../components/debug-log";
import { tooSmall } from "../../libvirt/disk";
import { commandError } from "../../transport/command";
import { linkNames, tapsOn } from "../../libvirt/network";
import { installProcessGuard, isProviderProcess, runCleanups, type GuardHooks } from "../../transport/process-guard";
import { explainSshError } from "../../transport/ssh-connection";
import { ownerUuid } from "../../libvirt/xml";

const GiB = 1024 ** 3;

function fakeHooks() {
  const handlers: Record<string, () => void> = {};
  let ppid = 4242;
  const exits: number[] = [];
  const hooks: GuardHooks = {
    onSignal: (signal, handler) => void (handlers[signal] = handler),
    parentPid: () => ppid,
    exit: (code) => void exits.push(code),
    intervalMs: 10,
    cleanupMs: 200,
  };
  return { hooks, handlers, exits, orphan: () => (ppid = 1) };
}

const settle = (ms = 50) => new Promise((r) => setTimeout(r, ms));

describe("provider process guard", () => {
  it("applies only in the dynamic provider plugin", () => {
    expect(isProviderProcess(["node", "/x/node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js", "127.0.0.1:1"])).toBe(true);
    expect(isProviderProcess(["node", "/x/node_modules/vitest/vitest.mjs"])).toBe(false);
  });

  it("on SIGINT runs the pending clean-ups, then exits", async () => {
    const f = fakeHooks();
    const { state, stop } = installProcessGuard(f.hooks);
    const removed: string[] = [];
    state.cleanups.set(1, async () => void removed.push("/tmp/vm-cluster.key"));
    f.handlers.SIGINT!();
    await settle();
    expect(removed).toEqual(["/tmp/vm-cluster.key"]);
    expect(f.exits).toEqual([130]);
    stop();
  });

  it("exits once its parent (the engine) is gone, as after a SIGKILL of pulumi", async () => {
    const f = fakeHooks();
    const { stop } = installProcessGuard(f.hooks);
    await settle(30);
    expect(f.exits).toEqual([]);
    f.orphan();
    await settle();
    expect(f.exits).toEqual([1]);
    stop();
  });

  it("does not wait for a clean-up that hangs", async () => {
    vi.useRealTimers();
    const started = Date.now();
    await runCleanups(new Map([[1, () => new Promise<void>(() => undefined)]]), 100);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe("disk size against the base image", () => {
  it("refuses a disk smaller than the image's virtual size, naming both and the fix", () => {
    expect(tooSmall(1 * GiB, 2 * GiB)).toBe(
      "the disk (1G) is smaller than the base image's virtual size (2G): the guest would not boot; set defaults.disk (or this VM's vms[].disk) to at least 2G",
    );
  });
  it("accepts an equal or larger disk, and says nothing while a size is unknown (preview)", () => {
    expect(tooSmall(2 * GiB, 2 * GiB)).toBeUndefined();
    expect(tooSmall(3 * GiB, 2 * GiB)).toBeUndefined();
    expect(tooSmall(1 * GiB, undefined)).toBeUndefined();
    expect(tooSmall(1 * GiB, "04da6b54-80e4-46f7-96ec-b56ff0331ba9")).toBeUndefined();
  });
});

describe("taps of a recreated network", () => {
  it("are the running domains' interfaces on that network only", () => {
    const domiflist = [
      " vnet3    network   anemoi    virtio   52:54:00:aa:00:01",
      " vnet4    network   other     virtio   52:54:00:aa:00:02",
      " -        network   anemoi    virtio   52:54:00:aa:00:03",
      " vnet5    bridge    br0       virtio   52:54:00:aa:00:04",
    ].join("\n");
    expect(tapsOn(domiflist, "anemoi")).toEqual(["vnet3"]);
  });

  it("on the bridge are named by `ip -o link show master <bridge>`, peers and flags aside", () => {
    const links = [
      "7: vnet3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel master vmc-anemoi state UNKNOWN mode DEFAULT group default qlen 1000\\    link/ether fe:54:00:aa:00:01 brd ff:ff:ff:ff:ff:ff",
      "9: veth-a@if8: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master vmc-anemoi state UP mode DEFAULT group default qlen 1000\\    link/ether 0a:1b:2c:3d:4e:5f brd ff:ff:ff:ff:ff:ff link-netnsid 0",
      "",
    ].join("\n");
    expect(linkNames(links)).toEqual(["vnet3", "veth-a"]);
    expect(linkNames("")).toEqual([]);
  });
});

describe("pool ownership UUID", () => {
  const owner = { project: "vm-cluster", stack: "anemoi", cluster: "anemoi" };
  it("is a stable name-based UUID per owner and pool", () => {
    const uuid = ownerUuid(owner, "anemoi-pool");
    expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(ownerUuid({ ...owner }, "anemoi-pool")).toBe(uuid);
  });
  it("differs for another stack, project, cluster or pool", () => {
    const uuid = ownerUuid(owner, "anemoi-pool");
    expect(ownerUuid({ ...owner, stack: "other" }, "anemoi-pool")).not.toBe(uuid);
    expect(ownerUuid({ ...owner, project: "other" }, "anemoi-pool")).not.toBe(uuid);
    expect(ownerUuid({ ...owner, cluster: "other" }, "anemoi-pool")).not.toBe(uuid);
    expect(ownerUuid(owner, "other-pool")).not.toBe(uuid);
  });
  it("stays what pools already on hosts carry, and a note makes a second, distinct one", () => {
    // Pinned: pools defined by earlier releases must still prove themselves ours.
    expect(ownerUuid(owner, "anemoi-pool")).toBe("67fa2e25-189a-5282-8e6d-6a6793577b48");
    const noted = ownerUuid(owner, "anemoi-pool", "over-existing-directory");
    expect(noted).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(noted).not.toBe(ownerUuid(owner, "anemoi-pool"));
  });
});

describe("messages when the host cannot be reached", () => {
  const where = { host: "10.0.0.9", port: 2222, user: "root" };
  it("name the cause and the setting to check", () => {
    expect(explainSshError("connect ECONNREFUSED 10.0.0.9:2222", where)).toBe(
      "SSH: nothing accepts SSH connections on 10.0.0.9:2222 (connection refused): check host.host and host.port, and that sshd runs there (connect ECONNREFUSED 10.0.0.9:2222)",
    );
    expect(explainSshError("Timed out while waiting for handshake", where)).toMatch(/10\.0\.0\.9:2222 did not answer/);
    expect(explainSshError("All configured authentication methods failed", where)).toMatch(/refused the key for user root/);
    expect(explainSshError("something new", where)).toBe("SSH: something new");
  });
  it("say a command never ran, rather than that it failed", () => {
    expect(commandError(["lscpu"], null, "SSH: no route", "root@h:22", false).message).toBe("could not run `lscpu` on root@h:22: SSH: no route");
    expect(commandError(["false"], 1, "", "this machine").message).toBe("`false` on this machine failed (exit 1): no error output");
  });
});

describe("the SDK's debug log", () => {
  it("withholds a message that carries a secret value, passes the others, and is installed once", async () => {
    const seen: string[] = [];
    const log = { debug: async (msg: string) => void seen.push(msg) };
    withholdSecretsFromDebugLog(log);
    withholdSecretsFromDebugLog(log);
    await log.debug(`RegisterResource RPC finished: resp: password,,,4dabf18193072939515e22adb298388d,,,${SECRET_SIGNATURE},value,,,hunter2`);
    await log.debug("Registering resource: t=vm-cluster:index:Cluster");
    expect(seen).toEqual([WITHHELD, "Registering resource: t=vm-cluster:index:Cluster"]);
  });

  it("cuts a long message (the SDK dumps whole responses, providers' code and all), saying how much it left out", async () => {
    const seen: string[] = [];
    const log = { debug: async (msg: string) => void seen.push(msg) };
    withholdSecretsFromDebugLog(log);
    const dump = `RegisterResource RPC finished: resource:demo-domain; err: null, resp: ${"x".repeat(80_000)}`;
    await log.debug(dump);
    await log.debug("x".repeat(MAX_DEBUG_CHARS));
    expect(seen[0]).toBe(`${dump.slice(0, MAX_DEBUG_CHARS)}… (${dump.length - MAX_DEBUG_CHARS} more characters left out by vm-cluster)`);
    expect(seen[0]).toMatch(/^RegisterResource RPC finished: resource:demo-domain; err: null, resp: x+…/);
    expect(seen[1]).toBe("x".repeat(MAX_DEBUG_CHARS));
    // A secret anywhere in a long message still withholds all of it.
    await log.debug(`${"x".repeat(80_000)}${SECRET_SIGNATURE}`);
    expect(seen[2]).toBe(WITHHELD);
  });

  it("is the SDK's own log module that the runtime calls", () => {
    const sdkLog = require("@pulumi/pulumi/log") as { debug: unknown };
    withholdSecretsFromDebugLog();
    expect(Object.getOwnPropertySymbols(sdkLog).map(String)).toContain("Symbol(vm-cluster.debug-log-filter)");
  });
});
