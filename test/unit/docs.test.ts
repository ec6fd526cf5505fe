// The README's configuration reference is generated from the schema (tools/config-reference.ts);
// this test fails when the two differ, and with UPDATE_DOCS=1 rewrites the README's section instead.
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { clusterArgsSource } from "../../tools/cluster-args";
import { configReference, configRows } from "../../tools/config-reference";

const README = path.join(__dirname, "../../README.md");
const CLUSTER_ARGS = path.join(__dirname, "../../library/cluster-args.ts");
const REGENERATE = "UPDATE_DOCS=1 npx vitest run test/unit/docs.test.ts";
// The generated text sits between the line of the begin marker and the end marker.
const SECTION = /(<!-- config-reference:begin -->\n)([\s\S]*?)(<!-- config-reference:end -->)/;

function section(readme: string): string {
  const matches = readme.match(new RegExp(SECTION.source, "g")) ?? [];
  if (matches.length !== 1) throw new Error(`README.md needs exactly one config-reference:begin/end marker pair; found ${matches.length}`);
  return SECTION.exec(readme)![2]!;
}

/** Key paths as the reference writes them: `vm-cluster:vms[].name` for every item of a list. */
function keyPaths(value: unknown, prefix: string): string[] {
  return [prefix, ...innerKeyPaths(value, prefix)];
}

function innerKeyPaths(value: unknown, prefix: string): string[] {
  if (Array.isArray(value)) return value.flatMap((item) => innerKeyPaths(item, `${prefix}[]`));
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, inner]) => keyPaths(inner, `${prefix}.${key}`));
}

describe("configuration reference", () => {
  const reference = configReference();

  it("is what README.md holds between the config-reference markers", () => {
    const readme = readFileSync(README, "utf8");
    if (process.env.UPDATE_DOCS === "1") {
      // Only the section is replaced: the rest of the README is edited by hand.
      if (section(readme) !== reference)
        writeFileSync(
          README,
          readme.replace(SECTION, (_all, begin: string, _old, end: string) => begin + reference + end),
        );
      expect(section(readFileSync(README, "utf8"))).toBe(reference);
      return;
    }
    expect(section(readme), `README.md's configuration reference is out of date; regenerate it with: ${REGENERATE}`).toBe(reference);
  });

  it("lists every key Pulumi.anemoi.yaml sets", () => {
    const stack = parseYaml(readFileSync(path.join(__dirname, "../../Pulumi.anemoi.yaml"), "utf8")) as { config: Record<string, unknown> };
    const documented = new Set(configRows().map((row) => row.path));
    const used = [...new Set(Object.entries(stack.config).flatMap(([key, value]) => keyPaths(value, key)))];
    expect(used).toContain("vm-cluster:vms[].name");
    expect(used.filter((key) => !documented.has(key))).toEqual([]);
    for (const key of Object.keys(stack.config)) expect(reference).toContain(`| \`${key}\` |`);
  });

  it("describes every key path of the schema", () => {
    const rows = configRows();
    expect(rows.map((row) => row.path)).toEqual(expect.arrayContaining(["vm-cluster:cluster", "vm-cluster:host.privateKey", "vm-cluster:vms[].disk"]));
    expect(rows.filter((row) => row.description.trim() === "").map((row) => row.path)).toEqual([]);
    expect(new Set(rows.map((row) => row.path)).size).toBe(rows.length);
  });
});

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("the library's ClusterArgs", () => {
  const source = clusterArgsSource();

  it("is what library/cluster-args.ts holds", () => {
    if (process.env.UPDATE_DOCS === "1" && readFileSync(CLUSTER_ARGS, "utf8") !== source) writeFileSync(CLUSTER_ARGS, source);
    expect(readFileSync(CLUSTER_ARGS, "utf8"), `library/cluster-args.ts is out of date; regenerate it with: ${REGENERATE}`).toBe(source);
  });

  it("has every key of the stack config, each with its description as JSDoc", () => {
    for (const row of configRows()) {
      const key = row.path.split(/[.:]/).pop()!.replace("[]", "");
      expect(source, row.path).toMatch(new RegExp(`\\* ${escape(row.description.slice(0, 40))}[^]*?readonly ${key}\\??:`));
    }
    expect(source).toContain('readonly type: "ssh";');
    expect(source).toContain('readonly type: "local";');
  });
});
