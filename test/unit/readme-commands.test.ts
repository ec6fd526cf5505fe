// Every command README.md shows is run by a test (which takes its text from README through
// readmeCommand, so it fails when README changes) or by CI; none can go stale unnoticed.
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { fenceLanguages, readmeCommand, SHELL_FENCES, shownCommands } from "../support/readme";

const ROOT = path.resolve(__dirname, "../..");
const TEST_DIR = path.join(ROOT, "test");

/** Fences of README that hold no commands. */
const OTHER_FENCES = new Set(["yaml", "json", "ini", "text", "xml", "ts", "sql"]);

/** Shown commands that run outside the tests, and the file that shows it: it must contain the evidence. */
const RUN_ELSEWHERE: { command: string; file: string; evidence: string; why: string }[] = [
  { command: "npm test", file: ".ci/run", evidence: "\nnpm test\n", why: "CI runs exactly the test command" },
  { command: "npm ci", file: "tools/setup.sh", evidence: "npm ci", why: "set-up runs it whenever package-lock.json changed, and always on CI's clean clone" },
  {
    command: "ip netns exec",
    file: "tools/demo.sh",
    evidence: "ip netns exec $netns }ssh",
    why: "the demo prints its ssh commands with it where it runs libvirtd in a namespace, and test/e2e/demo.test.ts types them",
  },
];

/** Inline code that names a command in the prose, not one to type as it stands; each with why it is not run. */
const MENTIONS: Record<string, string> = {
  "pulumi config set": "names the command whose uses the Setting values block shows (each run by test/engine/readme-config.test.ts)",
  "pulumi refresh": "names the command in a sentence; `pulumi refresh --clear-pending-creates --yes` is run",
  "pulumi cancel": "names the command in a sentence; `pulumi cancel --yes` is run",
  "kill -9": "names the signal that kills pulumi; test/faults/cluster.test.ts sends it",
  "iptables -C": "says how up checks a rule before adding it (host/iptables.ts)",
  "sudo -n": "says how host commands run with sudo: true (transport/command.ts)",
  "virsh start": "names the floor's step in the benchmark section",
  "pulumi refresh --yes": "names the no-op refresh row of the benchmark's table (copied from bench/results/latest.md), which the benchmark runs",
  "npm run bench":
    "the full benchmark (set-up cold and warm, 1, 2 and 4 VMs, three pairs of 4: ~35 min) is not part of the tests; its quick run `BENCH_SIZES=1 BENCH_SETUP=0 npm run bench` is",
};

/** Source text without comments, so a commented-out call does not count. */
// A `//` after a blank or at a line's start: `qemu:///system` inside a string stays.
const withoutComments = (source: string) => source.replace(/(^|\s)\/\*[\s\S]*?\*\//g, "$1").replace(/(^|\s)\/\/.*$/gm, "$1");

/** The text of every readmeCommand("...") call in the tests (string literals only), with the files that make it. */
function commandsRunByTests(): Map<string, string[]> {
  const runBy = new Map<string, string[]>();
  // Not this file: its own calls only check readmeCommand itself.
  const files = (readdirSync(TEST_DIR, { recursive: true }) as string[]).filter((f) => f.endsWith(".ts") && f !== path.join("unit", path.basename(__filename)));
  for (const file of files) {
    const source = withoutComments(readFileSync(path.join(TEST_DIR, file), "utf8"));
    for (const match of source.matchAll(/readmeCommand\(\s*(["'`])((?:\\.|(?!\1)[^\\])*)\1/g)) {
      const text = match[2]!.replace(/\\(.)/g, (_all, c: string) => ({ n: "\n", t: "\t" })[c] ?? c);
      runBy.set(text, [...(runBy.get(text) ?? []), `test/${file}`]);
    }
  }
  return runBy;
}

describe("README.md's commands", () => {
  const shown = shownCommands();
  const runBy = commandsRunByTests();

  it("are found: the shell blocks and the commands in the prose", () => {
    const texts = shown.map((c) => c.text);
    expect(texts).toEqual(expect.arrayContaining(["npm run demo", "npm test", "pulumi up", "pulumi destroy", "ssh -F anemoi.ssh_config boreas"]));
    expect(shown.filter((c) => c.kind === "inline").map((c) => c.text)).toEqual(expect.arrayContaining(["npm run demo:down", "kill -9"]));
    // Comments are not part of a command.
    expect(texts.filter((t) => t.includes("#"))).toEqual([]);
  });

  it("sit in shell blocks only: every other block names a language that holds no commands", () => {
    const languages = fenceLanguages();
    expect(languages.filter((l) => SHELL_FENCES.has(l)).length).toBeGreaterThan(0);
    expect(
      languages.filter((l) => !SHELL_FENCES.has(l) && !OTHER_FENCES.has(l)),
      "tag each ``` block: sh for commands, or its language",
    ).toEqual([]);
  });

  it("are each run by a test or by CI", () => {
    const elsewhere = new Set(RUN_ELSEWHERE.map((e) => e.command));
    const unexercised = shown
      .filter((c) => !runBy.has(c.text) && !elsewhere.has(c.text) && !(c.kind === "inline" && c.text in MENTIONS))
      .map((c) => `README.md:${c.line}: ${c.text}`);
    expect(unexercised, "commands README shows that no test runs: run them in a test through readmeCommand(...)").toEqual([]);
  });

  it("run elsewhere or only mentioned are still shown, and the evidence still holds", () => {
    const texts = shown.map((c) => c.text);
    for (const entry of RUN_ELSEWHERE) {
      expect(texts, entry.why).toContain(entry.command);
      expect(readFileSync(path.join(ROOT, entry.file), "utf8"), `${entry.file}: ${entry.why}`).toContain(entry.evidence);
    }
    expect(Object.keys(MENTIONS).filter((m) => !texts.includes(m))).toEqual([]);
  });

  it("run by tests are all still in README", () => {
    const stale = [...runBy].filter(([text]) => !shown.some((c) => c.text === text)).map(([text, files]) => `${files.join(", ")}: ${text}`);
    expect(stale).toEqual([]);
  });

  it("are parsed as a reader sees them: fences end spans, spans end at a blank line, comments are dropped", () => {
    const sample = [
      "a lone ` here",
      "",
      "then `pulumi up --yes` and `pulumi` alone",
      "```sh",
      "pulumi preview   # look first",
      "mytool --all",
      "```",
      "`mytool -l` but not `othertool -l`",
    ].join("\n");
    expect(shownCommands(sample).map((c) => [c.kind, c.text])).toEqual([
      ["inline", "pulumi up --yes"],
      ["block", "pulumi preview"],
      ["block", "mytool --all"],
      // A program the shell blocks run counts in the prose too; one README never runs does not.
      ["inline", "mytool -l"],
    ]);
    expect(fenceLanguages("```\nx\n```\n~~~yaml\na: 1\n~~~\n")).toEqual(["", "yaml"]);
  });

  it("are the same whatever this machine has installed (a virt-customize on PATH, or nothing at all)", () => {
    const bin = mkdtempSync(path.join(tmpdir(), "vmc-path-"));
    const saved = process.env.PATH;
    try {
      for (const program of ["virt-customize", "the", "stack", "refresh", "update", "cloud-init", "libvirt"]) {
        writeFileSync(path.join(bin, program), "#!/bin/sh\n");
        chmodSync(path.join(bin, program), 0o755);
      }
      process.env.PATH = `${bin}:${saved ?? ""}`;
      const crowded = shownCommands().map((c) => c.text);
      process.env.PATH = "";
      const bare = shownCommands().map((c) => c.text);
      expect(crowded).toEqual(bare);
      expect(bare).toContain("ps -p N");
      expect(bare.filter((t) => t.startsWith("virt-customize"))).toEqual([]);
    } finally {
      process.env.PATH = saved;
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it("readmeCommand refuses text README does not show, and replaces only placeholders", () => {
    expect(() => readmeCommand("pulumi up --target everything")).toThrow(/README.md no longer shows the command/);
    expect(readmeCommand("ps -p N", { N: "42" })).toBe("ps -p 42");
    expect(() => readmeCommand("pulumi up", { "<vm>": "boreas" })).toThrow(/has no placeholder <vm>/);
    expect(() => readmeCommand("pulumi up", { up: "destroy" })).toThrow(/is not a placeholder/);
  });
});
