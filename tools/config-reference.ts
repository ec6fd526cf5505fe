// The README's configuration reference, generated from the zod schema so it cannot drift from
// what the program accepts. test/unit/docs.test.ts checks the README against it and, with
// UPDATE_DOCS=1, rewrites that section.
import { z } from "zod";
import { CONFIG_NAMESPACE } from "../model/config";
import type { OnChange } from "../model/on-change";
import { configSectionsSchema } from "../model/schema";

export interface ConfigRow {
  /** `vm-cluster:network.cidr`, `vm-cluster:vms[].name`. */
  readonly path: string;
  readonly type: string;
  /** `yes`, `no`, or the condition under which the key is required. */
  readonly required: string;
  /** Markdown; empty when there is none. */
  readonly default: string;
  /** From the schema's metadata. */
  readonly description: string;
  /** The union option(s) the key belongs to, when not all: `type: ssh`. */
  readonly onlyFor?: string;
  /** What a change does to a running cluster; none for an object whose keys say it. */
  readonly onChange?: OnChange;
}

type Schema = z.core.$ZodType;

/** Stands for the name of an entry in a mapping's key paths: `classes.<name>.vcpus`. */
export const ENTRY = "<name>";

/** A field with its wrappers peeled off: what the user writes, and what the wrappers said about it. */
interface Field {
  readonly schema: z.core.$ZodTypes;
  readonly optional: boolean;
  readonly default?: { value: unknown };
  readonly description?: string;
  readonly title?: string;
  readonly onChange?: OnChange;
}

// Metadata sits on the outermost schema of a field; the size title sits inside its wrappers.
function unwrap(schema: Schema): Field {
  let optional = false;
  let dflt: { value: unknown } | undefined;
  let description: string | undefined;
  let title: string | undefined;
  let onChange: OnChange | undefined;
  for (let current = schema as z.core.$ZodTypes; ;) {
    const meta = z.globalRegistry.get(current);
    description ??= meta?.description;
    title ??= meta?.title;
    onChange ??= meta?.onChange;
    const def = current._zod.def;
    switch (def.type) {
      case "optional":
        optional = true;
        current = def.innerType as z.core.$ZodTypes;
        break;
      case "default":
      case "prefault":
        optional = true;
        dflt ??= { value: def.defaultValue };
        current = def.innerType as z.core.$ZodTypes;
        break;
      case "pipe":
        // The user writes the pipe's input; a preprocess (transform first) checks its output's type.
        current = (def.in._zod.def.type === "transform" ? def.out : def.in) as z.core.$ZodTypes;
        break;
      default:
        return {
          schema: current,
          optional,
          ...(dflt && { default: dflt }),
          ...(description !== undefined && { description }),
          ...(title !== undefined && { title }),
          ...(onChange !== undefined && { onChange }),
        };
    }
  }
}

/** An empty list or mapping as a default gives nothing, not keys to see. */
const isEmpty = (value: unknown) =>
  Array.isArray(value) ? value.length === 0 : value !== null && typeof value === "object" && Object.keys(value).length === 0;

const code = (value: unknown) => `\`${typeof value === "string" ? value : JSON.stringify(value)}\``;

function typeName(field: Field, path: string): string {
  if (field.title !== undefined) return field.title;
  const s = field.schema;
  switch (s._zod.def.type) {
    case "string":
    case "boolean":
    case "object":
      return s._zod.def.type;
    case "number":
      // JSON Schema's view tells an integer from a number (zod keeps it in a check).
      return z.toJSONSchema(s).type === "integer" ? "integer" : "number";
    case "array":
      return unwrap(s._zod.def.element).schema._zod.def.type === "string" ? "list of strings" : "list";
    case "record": {
      const value = unwrap(s._zod.def.valueType).schema;
      if (value._zod.def.type === "object" || value._zod.def.type === "union") return "mapping";
      if (value._zod.def.type === "array" && unwrap(value._zod.def.element).schema._zod.def.type === "string") return "mapping to lists of strings";
      throw new Error(`${path}: the reference describes mappings to objects or to lists of strings only`);
    }
    case "union":
      return "object";
    case "literal":
      return s._zod.def.values.map(code).join(" or ");
    case "enum":
      return Object.values(s._zod.def.entries).map(code).join(" or ");
    default:
      throw new Error(`${path}: the reference cannot describe a ${s._zod.def.type} schema; give it a title or extend configReference`);
  }
}

/** The object options of a union, with the discriminator value of each. */
function unionOptions(union: z.core.$ZodUnion, path: string): { value: string; shape: z.core.$ZodShape }[] {
  const discriminator = (union._zod.def as Partial<z.core.$ZodDiscriminatedUnionDef>).discriminator;
  if (discriminator === undefined) throw new Error(`${path}: only discriminated unions of objects are supported`);
  return union._zod.def.options.map((option) => {
    const inner = unwrap(option).schema;
    if (inner._zod.def.type !== "object") throw new Error(`${path}: union option is not an object`);
    const tag = unwrap(inner._zod.def.shape[discriminator]!).schema;
    if (tag._zod.def.type !== "literal") throw new Error(`${path}: discriminator ${discriminator} is not a literal`);
    return { value: String(tag._zod.def.values[0]), shape: inner._zod.def.shape };
  });
}

/**
 * The rows of one key and everything under it. `condition` is why its keys would be required
 * (undefined: always); `inherited` is the default its parent's default gives it.
 */
function fieldRows(key: string, schema: Schema, parent: string, condition: string | undefined, inherited: unknown, onlyFor?: string): ConfigRow[] {
  const path = parent === "" ? key : `${parent}.${key}`;
  const field = unwrap(schema);
  const dflt = field.default ? field.default.value : inherited;
  const row: ConfigRow = {
    path: `${CONFIG_NAMESPACE}:${path}`,
    type: typeName(field, path),
    required: field.optional ? "no" : condition === undefined ? "yes" : `if ${condition}`,
    default:
      dflt === undefined
        ? ""
        : ["array", "record"].includes(field.schema._zod.def.type) && isEmpty(dflt)
          ? "none"
          : typeof dflt === "object"
            ? "see its keys"
            : code(dflt),
    description: field.description ?? "",
    ...(onlyFor !== undefined && { onlyFor }),
    ...(field.onChange !== undefined && { onChange: field.onChange }),
  };
  // Keys inside an optional value are required only once it is set.
  const inner = field.optional ? `\`${path}\` is set` : condition;
  const innerDefault = (name: string) => (dflt !== null && typeof dflt === "object" ? (dflt as Record<string, unknown>)[name] : undefined);
  const s = field.schema;
  switch (s._zod.def.type) {
    case "object":
      return [row, ...shapeRows(s._zod.def.shape, path, inner, innerDefault)];
    case "array": {
      const element = unwrap(s._zod.def.element).schema;
      return element._zod.def.type === "object" ? [row, ...shapeRows(element._zod.def.shape, `${path}[]`, inner, () => undefined)] : [row];
    }
    case "union":
      return [row, ...unionRows(s as z.core.$ZodUnion, path, inner, innerDefault)];
    case "record": {
      // The keys of each entry, under a placeholder for the entry's name.
      const value = unwrap(s._zod.def.valueType).schema;
      if (value._zod.def.type === "union") return [row, ...unionRows(value as z.core.$ZodUnion, `${path}.${ENTRY}`, inner, () => undefined)];
      return value._zod.def.type === "object" ? [row, ...shapeRows(value._zod.def.shape, `${path}.${ENTRY}`, inner, () => undefined)] : [row];
    }
    default:
      return [row];
  }
}

function shapeRows(shape: z.core.$ZodShape, path: string, condition: string | undefined, inherited: (key: string) => unknown): ConfigRow[] {
  return Object.entries(shape).flatMap(([key, schema]) => fieldRows(key, schema, path, condition, inherited(key)));
}

// One row per key across the options: a key of every option once, a key of some options marked with them.
function unionRows(union: z.core.$ZodUnion, path: string, condition: string | undefined, inherited: (key: string) => unknown): ConfigRow[] {
  const options = unionOptions(union, path);
  const discriminator = (union._zod.def as z.core.$ZodDiscriminatedUnionDef).discriminator;
  const keys = [...new Set(options.flatMap((option) => Object.keys(option.shape)))];
  return keys.flatMap((key) => {
    const having = options.filter((option) => Object.hasOwn(option.shape, key));
    const first = having[0]!.shape[key]!;
    if (having.length === options.length) {
      const rows = fieldRows(key, first, path, condition, inherited(key));
      // The discriminator's type is every option's literal, not just the first one's.
      return key === discriminator ? [{ ...rows[0]!, type: options.map((option) => code(option.value)).join(" or ") }] : rows;
    }
    const values = having.map((option) => code(option.value)).join(" or ");
    return fieldRows(
      key,
      first,
      path,
      `\`${path}.${discriminator}\` is ${values}`,
      inherited(key),
      `${discriminator}: ${having.map((o) => o.value).join(" or ")}`,
    );
  });
}

/** Every key path of the stack config, in schema order. */
export function configRows(): ConfigRow[] {
  // Building the schema reads nothing; only parsing would use the files reader.
  const schema = configSectionsSchema({
    readFile: () => {
      throw new Error("the configuration reference reads no files");
    },
    homeDir: "/",
  });
  const root = unwrap(schema).schema;
  if (root._zod.def.type !== "object") throw new Error("the stack config schema is not an object");
  return shapeRows(root._zod.def.shape, "", undefined, () => undefined);
}

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

const SETTING_VALUES = `### Setting values

Keys are set with \`pulumi config set\` (or written into \`Pulumi.<stack>.yaml\`, as in \`Pulumi.anemoi.yaml\`):

\`\`\`sh
# A top-level value
pulumi config set vm-cluster:cluster anemoi
pulumi config set vm-cluster:domainType qemu
# A key inside an object: --path
pulumi config set --path 'vm-cluster:network.cidr' 172.17.2.0/24
pulumi config set --path 'vm-cluster:defaults.memoryMiB' 4096
# A key of a list item, by index: the first VM is vms[0], the next vms[1]
pulumi config set --path 'vm-cluster:vms[0].name' boreas
pulumi config set --path 'vm-cluster:vms[0].ip' 172.17.2.2
# A file on the machine that runs pulumi: quoted, ~/ is expanded when the program reads it
pulumi config set --path 'vm-cluster:sshPublicKey.file' '~/.ssh/id_ed25519.pub'
# A remote VM host; its private key as a secret (encrypted in the stack file), from standard input
pulumi config set --path 'vm-cluster:host.type' ssh
pulumi config set --path 'vm-cluster:host.host' vmhost.example
pulumi config set --path 'vm-cluster:host.user' root
pulumi config set --path 'vm-cluster:host.hostKey' 'SHA256:...'
pulumi config set --secret --path 'vm-cluster:host.privateKey' < ~/.ssh/id_ed25519
# Removing a key or a list item
pulumi config rm --path 'vm-cluster:vms[3]'
\`\`\`

- Top-level values are stored as strings; the program reads \`true\`, \`false\` and whole numbers
  from them. With \`--path\`, pulumi stores \`true\`, \`false\` and integers as booleans and numbers,
  which the program accepts too; a VM name of digits only needs \`--type string\` to stay a name.
- A value that starts with \`-\`, such as PEM text, must come from standard input (as above) or
  after \`--\`: \`pulumi config set --secret --path 'vm-cluster:host.privateKey' -- "$(cat ~/.ssh/id_ed25519)"\`.
  Standard input also keeps the key out of the process list.
- \`host.privateKey\` may instead be a path, read on the machine that runs pulumi:
  \`pulumi config set --path 'vm-cluster:host.privateKey' '~/.ssh/id_ed25519'\`.
`;

/** The Markdown between the README's config-reference markers. */
export function configReference(): string {
  const header = "| Key | Type | Required | Default | On change | Description |\n| --- | --- | --- | --- | --- | --- |";
  const rows = configRows().map((row) => {
    const description = row.onlyFor === undefined ? row.description : `Only for \`${row.onlyFor}\`. ${row.description}`;
    return `| \`${row.path}\` | ${cell(row.type)} | ${cell(row.required)} | ${cell(row.default)} | ${cell(row.onChange ?? "see its keys")} | ${cell(description)} |`;
  });
  return [
    "<!-- Generated from model/schema.ts by tools/config-reference.ts; to change it, edit the schema and run: UPDATE_DOCS=1 npx vitest run test/unit/docs.test.ts -->",
    "",
    "The stack config: keys of the `vm-cluster:` namespace. A key whose Required column names a condition is required when that holds.",
    "The On change column says what `pulumi up` does to a running cluster when the key changes; `pulumi preview` shows the same before:",
    "an update of `GuestSettings` is applied in the running VMs over SSH, a `Domain` update whose `restart` is set restarts that VM",
    "(graceful shutdown, then start), and a replaced `Disk` means a new VM with a fresh disk. A disk never shrinks: a smaller size is refused before anything changes.",
    "",
    header,
    ...rows,
    "",
    SETTING_VALUES,
  ].join("\n");
}
