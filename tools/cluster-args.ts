// library/cluster-args.ts, generated from the same rows as the README's configuration reference, so
// the library's ClusterArgs has exactly the stack config's keys, each with its description as JSDoc.
// test/unit/docs.test.ts checks the file against it and, with UPDATE_DOCS=1, rewrites it.
import { ENTRY, configRows, type ConfigRow } from "./config-reference";

interface Node {
  readonly key: string;
  readonly row: ConfigRow;
  readonly children: Node[];
}

const PREFIX = "vm-cluster:";

/** The rows as a tree: `vms[].name` under `vms`, `host.port` under `host`. */
function tree(rows: readonly ConfigRow[]): Node[] {
  const roots: Node[] = [];
  const byPath = new Map<string, Node>();
  for (const row of rows) {
    const path = row.path.slice(PREFIX.length);
    const dot = path.lastIndexOf(".");
    const node: Node = { key: path.slice(dot + 1), row, children: [] };
    byPath.set(path, node);
    // The keys of a list item or a mapping's entry are the list's or mapping's children.
    const parent =
      dot < 0
        ? undefined
        : path
            .slice(0, dot)
            .replace(/\[\]$/, "")
            .replace(new RegExp(`\\.${ENTRY}$`), "");
    if (parent === undefined) roots.push(node);
    else {
      const up = byPath.get(parent);
      if (!up) throw new Error(`${row.path}: its parent ${parent} comes later or not at all`);
      up.children.push(node);
    }
  }
  return roots;
}

/** `\`kvm\` or \`qemu\`` → ["kvm", "qemu"]. */
const literals = (type: string) => [...type.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

function leafType(row: ConfigRow): string {
  switch (row.type) {
    case "string":
      return "string";
    case "integer":
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    case "size":
      return "string | number";
    case "list of strings":
      return "readonly string[]";
    case "mapping to lists of strings":
      return "Readonly<Record<string, readonly string[]>>";
    case "mapping or YAML text":
      return "string | Readonly<Record<string, unknown>>";
    default: {
      const values = literals(row.type);
      if (values.length === 0) throw new Error(`${row.path}: no TypeScript type for "${row.type}"`);
      return values.map((v) => JSON.stringify(v)).join(" | ");
    }
  }
}

function jsDoc(row: ConfigRow, indent: string): string {
  const lines = [row.description];
  if (row.default !== "" && row.default !== "see its keys") lines.push(`Default: ${row.default}.`);
  // What `pulumi up` does to a running cluster when the value changes, as the README's column says.
  if (row.onChange !== undefined) lines.push(`On change: ${row.onChange}.`);
  return `${indent}/**\n${lines.map((l) => `${indent} * ${l.replace(/\*\//g, "*\\/")}`).join("\n")}\n${indent} */\n`;
}

function field(node: Node, indent: string, optional = node.row.required === "no"): string {
  return `${jsDoc(node.row, indent)}${indent}readonly ${node.key}${optional ? "?" : ""}: ${typeOf(node, indent)};\n`;
}

function objectType(fields: string[], indent: string): string {
  return `{\n${fields.join("")}${indent}}`;
}

function typeOf(node: Node, indent: string): string {
  if (node.children.length === 0) return leafType(node.row);
  const inner = `${indent}  `;
  const shape = node.children.some((c) => c.row.onlyFor !== undefined)
    ? unionType(node, inner)
    : objectType(
        node.children.map((c) => field(c, inner)),
        indent,
      );
  if (node.row.type === "list") return `readonly ${shape}[]`;
  return node.row.type === "mapping" ? `Readonly<Record<string, ${shape}>>` : shape;
}

/** A discriminated union: each option has the keys of all options and its own (`onlyFor`). */
function unionType(node: Node, inner: string): string {
  const tagged = node.children.find((c) => c.row.onlyFor !== undefined)!.row.onlyFor!;
  const discriminator = tagged.slice(0, tagged.indexOf(":"));
  const tag = node.children.find((c) => c.key === discriminator);
  if (!tag) throw new Error(`${node.row.path}: no ${discriminator} key for its options`);
  const outer = inner.slice(2);
  return literals(tag.row.type)
    .map((value) => {
      const keys = node.children.filter((c) => c !== tag && (c.row.onlyFor === undefined || c.row.onlyFor.split(": ")[1]!.split(" or ").includes(value)));
      // Only the default option may leave its tag out; the others do not have that default.
      const isDefault = tag.row.default === `\`${value}\``;
      const tagRow = isDefault ? tag.row : { ...tag.row, default: "" };
      const tagField = `${jsDoc(tagRow, inner)}${inner}readonly ${discriminator}${isDefault ? "?" : ""}: ${JSON.stringify(value)};\n`;
      return objectType([tagField, ...keys.map((c) => field(c, inner))], outer);
    })
    .join(" | ");
}

export function clusterArgsSource(): string {
  const fields = tree(configRows()).map((node) => field(node, "  "));
  return [
    "// Generated from model/schema.ts by tools/cluster-args.ts; to change it, edit the schema and run:",
    "// UPDATE_DOCS=1 npx vitest run test/unit/docs.test.ts",
    "",
    "/**",
    " * A cluster as the stack config describes it: the keys of the `vm-cluster:` namespace, with the same",
    " * defaults and checks. `new Cluster(name, args)` validates them all at once and names every problem.",
    " */",
    `export interface ClusterArgs ${objectType(fields, "")}`,
    "",
  ].join("\n");
}
