// Readiness reads each network's leases once per poll for all the VMs waiting on it: one process
// and libvirt call per network, not per VM, while the guests need the cores.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { leasedIp, networkLeases, POLL_MS } from "../../guest/readiness";
import type { LibvirtTarget } from "../../libvirt/virsh";

const TABLE = [
  " Expiry Time           MAC address         Protocol   IP address       Hostname   Client ID or DUID",
  "-----------------------------------------------------------------------------------------------------",
  " 2026-12-06 22:00:00   52:54:00:aa:bb:01   ipv4       10.9.0.10/24     a          -",
  " 2026-12-06 22:00:01   52:54:00:aa:bb:02   ipv4       10.9.0.11/24     b          -",
  "",
].join("\n");

let dir: string;
let path0: string | undefined;
const target: LibvirtTarget = { connection: { type: "local" } };
/** The networks the stand-in virsh was asked for, in order. */
const asked = () => readFileSync(path.join(dir, "calls"), "utf8").split("\n").filter(Boolean);

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "vmc-leases-"));
  writeFileSync(path.join(dir, "calls"), "");
  // A stand-in virsh: records the network it is asked for; the network "broken" fails.
  writeFileSync(
    path.join(dir, "virsh"),
    `#!/bin/sh\nfor a; do net=$a; done\necho "$net" >> ${path.join(dir, "calls")}\n[ "$net" = broken ] && { echo "error: no network" >&2; exit 1; }\ncat <<'T'\n${TABLE}T\n`,
  );
  chmodSync(path.join(dir, "virsh"), 0o755);
  path0 = process.env.PATH;
  process.env.PATH = `${dir}:${path0}`;
});
afterAll(() => {
  process.env.PATH = path0;
  rmSync(dir, { recursive: true, force: true });
});

describe("networkLeases", () => {
  it("reads a network once for every VM that asks within one poll, and again after it", async () => {
    const now = 1_000_000;
    const reads = await Promise.all([0, 1, 2, 3].map(() => networkLeases(target, "shared", now)));
    expect(asked()).toEqual(["shared"]);
    expect(reads.map((r) => [leasedIp(r, "52:54:00:aa:bb:01"), leasedIp(r, "52:54:00:AA:BB:02")])).toEqual(Array(4).fill(["10.9.0.10", "10.9.0.11"]));
    await networkLeases(target, "shared", now + POLL_MS - 1);
    expect(asked()).toEqual(["shared"]);
    await networkLeases(target, "shared", now + POLL_MS);
    expect(asked()).toEqual(["shared", "shared"]);
    // Another network has reads of its own.
    await networkLeases(target, "other", now + POLL_MS);
    expect(asked()).toEqual(["shared", "shared", "other"]);
  });

  it("shares no failed read: the next poll asks again, and the error names the command", async () => {
    await expect(networkLeases(target, "broken", 5)).rejects.toThrow(/no network/);
    await expect(networkLeases(target, "broken", 6)).rejects.toThrow(/no network/);
    expect(asked().filter((n) => n === "broken")).toHaveLength(2);
  });
});
