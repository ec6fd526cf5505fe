// The cluster's known_hosts as a file the stack keeps on the machine that runs Pulumi, so the
// ssh_config and inventory outputs can name it by an absolute path and work from any folder.
// Written atomically; destroy removes it and the folders it made. With team state each checkout has
// its own: by default its path is relative to the project folder, the same input in every checkout;
// an absolute path that another checkout wrote is never removed by this one.
import { deleteFirst } from "../provider/delete-first";
import * as pulumi from "../provider/pulumi";
import { withClearErrors } from "../provider/clear-errors";
import type { InputsOf } from "../provider/args";
import { DynamicResource } from "../provider/dynamic-resource";

export interface KnownHostsFileInputs {
  /** Absolute, or relative to the project folder (where the engine runs its providers). */
  path: string;
  content: string;
}

export interface KnownHostsFileState extends KnownHostsFileInputs {
  /** The outermost folder create made, removed again on delete when empty; none when it existed. */
  createdDir?: string;
  /** The machine and folder of the run that wrote it (see `writer`); none in states from before. */
  writtenFrom?: string;
}

export type KnownHostsFileArgs = InputsOf<KnownHostsFileInputs>;

function write(file: string, content: string): void {
  const fs = require("node:fs") as typeof import("node:fs");
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, content, { mode: 0o644 });
  fs.renameSync(tmp, file);
}

/** This run's machine and folder: a file another checkout wrote is that checkout's to remove. */
function writer(): string {
  const os = require("node:os") as typeof import("node:os");
  return `${os.hostname()}:${process.cwd()}`;
}

/** Whether this machine and folder wrote it; for a state from before writtenFrom, whether it lies in this folder. */
function writtenHere(props: KnownHostsFileState): boolean {
  const path = require("node:path") as typeof import("node:path");
  if (props.writtenFrom !== undefined) return props.writtenFrom === writer();
  return !path.relative(process.cwd(), props.path).startsWith("..");
}

/** Writes the file, making its folders; the outermost folder made, if any. */
function place(inputs: KnownHostsFileInputs): Pick<KnownHostsFileState, "createdDir" | "writtenFrom"> {
  const fs = require("node:fs") as typeof import("node:fs");
  const path = require("node:path") as typeof import("node:path");
  const createdDir = fs.mkdirSync(path.dirname(inputs.path), { recursive: true });
  write(inputs.path, inputs.content);
  return { ...(createdDir !== undefined && { createdDir }), writtenFrom: writer() };
}

/**
 * Removes the file and, up to the folder create made, each folder left empty. A relative path is
 * this checkout's own file; an absolute one that another checkout wrote stays.
 */
function remove(props: KnownHostsFileState): void {
  const fs = require("node:fs") as typeof import("node:fs");
  const path = require("node:path") as typeof import("node:path");
  if (path.isAbsolute(props.path) && !writtenHere(props)) return;
  fs.rmSync(props.path, { force: true });
  if (props.createdDir === undefined) return;
  // Each only when empty: something else put there stays.
  for (let dir = path.dirname(props.path); dir.startsWith(props.createdDir); dir = path.dirname(dir)) {
    try {
      fs.rmdirSync(dir);
    } catch {
      return;
    }
  }
}

export const knownHostsFileProvider: pulumi.dynamic.ResourceProvider<KnownHostsFileInputs, KnownHostsFileState> = withClearErrors<
  KnownHostsFileInputs,
  KnownHostsFileState
>("known_hosts file", {
  async create(inputs) {
    return { id: inputs.path, outs: { ...inputs, ...place(inputs) } };
  },

  async read(id, props) {
    const fs = require("node:fs") as typeof import("node:fs");
    if (!props) return {};
    // Missing here (a checkout that has not run up yet, a clean) is drift the next up writes, not a
    // resource gone: with team state the others' checkouts still have theirs.
    return { id, props: { ...props, content: fs.existsSync(props.path) ? fs.readFileSync(props.path, "utf8") : "" } };
  },

  async diff(_id, olds, news) {
    const fs = require("node:fs") as typeof import("node:fs");
    // It lives on this machine: one removed or edited by hand (a fresh checkout, a clean) is written
    // again. Another path (another checkout, with team state) is an update: the old file may be theirs.
    const onDisk = fs.existsSync(news.path) ? fs.readFileSync(news.path, "utf8") : undefined;
    return { changes: olds.path !== news.path || olds.content !== news.content || onDisk !== news.content };
  },

  async update(_id, olds, news) {
    if (olds.path !== news.path) {
      remove(olds);
      return { outs: { ...news, ...place(news) } };
    }
    // Same path: the folder create made stays the one to remove.
    const placed = place(news);
    return { outs: { ...news, ...placed, createdDir: olds.createdDir ?? placed.createdDir } };
  },

  async delete(_id, props) {
    remove(props);
  },
});

export class KnownHostsFile extends DynamicResource {
  declare readonly path: pulumi.Output<string>;

  constructor(name: string, args: KnownHostsFileArgs, opts?: pulumi.CustomResourceOptions) {
    super(knownHostsFileProvider, name, { ...args, createdDir: undefined, writtenFrom: undefined }, deleteFirst(opts), "vm-cluster", "KnownHostsFile");
  }
}
