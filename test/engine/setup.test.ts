// tools/setup.sh on a copy of this project whose CLI build is a stand-in (the real one takes
// minutes cold): progress while set-up waits for it, and a failed build named with its log.
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot, runProcess } from "../../testbed/engine";
import { alive } from "../../testbed/host-state";
import { waitFor } from "../../testbed/wait";

let copy: string;
let cache: string;

beforeAll(() => {
  copy = mkdtempSync(path.join(tmpdir(), "vmc-setup-"));
  cache = mkdtempSync(path.join(tmpdir(), "vmc-setup-cache-"));
  const files = execFileSync("git", ["ls-files", "-z"], { cwd: projectRoot, encoding: "utf8" }).split("\0").filter(Boolean);
  execFileSync("bash", ["-c", `tar cf - --null -T - | tar xf - -C '${copy}'`], { cwd: projectRoot, input: files.join("\0") });
  symlinkSync(path.join(projectRoot, "node_modules"), path.join(copy, "node_modules"));
  // The stand-in: as slow as asked, then fails or names a binary of its own, as tools/build-cli.sh does.
  const stub = path.join(copy, "tools", "build-cli.sh");
  writeFileSync(
    stub,
    [
      "#!/usr/bin/env bash",
      'echo $$ > "$2/build.pid"',
      'echo "go: downloading modules" >&2',
      'sleep "$STUB_SECONDS"',
      '[ -z "${STUB_FAIL:-}" ] || { echo "go: a build error" >&2; exit 2; }',
      'mkdir -p "$2/built" && printf "#!/bin/sh\\necho v$1\\n" > "$2/built/pulumi" && chmod +x "$2/built/pulumi"',
      'echo "$2/built/pulumi"',
      "",
    ].join("\n"),
  );
  chmodSync(stub, 0o755);
  mkdirSync(path.join(cache, "bin"));
  writeFileSync(path.join(cache, "bin", "pulumi"), "#!/bin/sh\necho v1.0.0\n", { mode: 0o755 });
});

afterAll(() => {
  rmSync(copy, { recursive: true, force: true });
  rmSync(cache, { recursive: true, force: true });
});

// First on PATH, a pulumi older than the pin shadows whatever this machine has: set-up must build one.
const env = (extra: Record<string, string>) => ({ VM_CLUSTER_CACHE: cache, PATH: `${path.join(cache, "bin")}:${process.env.PATH ?? ""}`, ...extra });

describe("set-up", () => {
  it("says at least every 15 s, with the time since it started, that it waits for the CLI build", async () => {
    const r = await runProcess("bash", ["tools/setup.sh"], { cwd: copy, env: env({ STUB_SECONDS: "22" }), timeoutMs: 300_000 });
    expect(r.code, r.out).toBe(0);
    const progress = [...r.out.matchAll(/^setup: building the pulumi CLI v[\d.]+ from Go modules .*: (\d+)s since set-up started$/gm)].map((m) => Number(m[1]));
    expect(progress.length, r.out).toBeGreaterThanOrEqual(2);
    expect(progress[0], r.out).toBeLessThanOrEqual(15);
    for (let i = 1; i < progress.length; i++) expect(progress[i]! - progress[i - 1]!, r.out).toBeLessThanOrEqual(15);
    expect(r.out).toMatch(/^setup: done: v[\d.]+ at /m);
    expect(readdirSync(path.join(copy, ".tools", "cli")).filter((f) => f.startsWith("build."))).toEqual([]);
  }, 300_000);

  it("stops the whole build when it is interrupted (Ctrl-C)", async () => {
    rmSync(path.join(copy, ".tools", "cli", "pulumi"), { force: true });
    const child = spawn("bash", ["tools/setup.sh"], { cwd: copy, env: { ...process.env, ...env({ STUB_SECONDS: "120" }) }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stderr.on("data", (b: Buffer) => (out += b));
    const closed = new Promise<number | null>((resolve) => child.on("close", resolve));
    try {
      await waitFor("the CLI step with the build started", () => out.includes("setup: pulumi CLI") && existsSync(path.join(cache, "build.pid")), 60_000);
      const build = Number(readFileSync(path.join(cache, "build.pid"), "utf8"));
      expect(alive(build)).toBe(true);
      child.kill("SIGINT");
      expect(await closed).not.toBe(0);
      await waitFor("the build to stop", () => !alive(build), 10_000);
      expect(out).toMatch(/setup: step "pulumi CLI v[\d.]+" failed/);
    } finally {
      child.kill("SIGKILL");
    }
  }, 120_000);

  it("names the failed step and shows the build's own output when the build fails", async () => {
    rmSync(path.join(copy, ".tools", "cli", "pulumi"), { force: true });
    const r = await runProcess("bash", ["tools/setup.sh"], { cwd: copy, env: env({ STUB_SECONDS: "1", STUB_FAIL: "1" }), timeoutMs: 300_000 });
    expect(r.code).not.toBe(0);
    expect(r.out).toContain("go: a build error");
    expect(r.out).toMatch(/setup: step "pulumi CLI v[\d.]+" failed \(exit 1\); see the output above/);
    expect(existsSync(path.join(copy, ".tools", "cli", "pulumi"))).toBe(false);
  }, 300_000);
});
