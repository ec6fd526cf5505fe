// The cluster's known_hosts as a file the stack keeps on the machine that runs Pulumi, so the
// ssh_config and inventory outputs can name it by an absolute path and work from any folder.
// Written atomically; destroy removes it and the folders it made.
import { deleteFirst } from "../provider/delete-first";
import * as pulumi from "@pulumi/pulumi";
import { withClearErrors } from "../provider/clear-errors";
import type { InputsOf } from "../provider/args";

export interface KnownHostsFileInputs {
  /** Absolute path. */
  path: string;
  content: string;
}

export interface KnownHostsFileState extends KnownHostsFileInputs {
  /** The outermost folder create made, removed again on delete when empty; none when it existed. */
  createdDir?: string;
}

export type KnownHostsFileArgs = InputsOf<KnownHostsFileInputs>;

function write(file: string, content: string): void {
  const fs = require("node:fs") as typeof import("node:fs");
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, content, { mode: 0o644 });
  fs.renameSync(tmp, file);
}

export const knownHostsFileProvider: pulumi.dynamic.ResourceProvider<KnownHostsFileInputs, KnownHostsFileState> = withClearErrors<
  KnownHostsFileInputs,
  KnownHostsFileState
>("known_hosts file", {
  async create(inputs) {
    const fs = require("node:fs") as typeof import("node:fs");
    const path = require("node:path") as typeof import("node:path");
    const createdDir = fs.mkdirSync(path.dirname(inputs.path), { recursive: true });
    write(inputs.path, inputs.content);
    return { id: inputs.path, outs: { ...inputs, ...(createdDir !== undefined && { createdDir }) } };
  },

  async read(id, props) {
    const fs = require("node:fs") as typeof import("node:fs");
    if (!props || !fs.existsSync(props.path)) return {};
    return { id, props: { ...props, content: fs.readFileSync(props.path, "utf8") } };
  },

  async diff(_id, olds, news) {
    const fs = require("node:fs") as typeof import("node:fs");
    const replace = olds.path !== news.path;
    // It lives on this machine: one removed or edited by hand (a fresh checkout, a clean) is written again.
    const onDisk = fs.existsSync(news.path) ? fs.readFileSync(news.path, "utf8") : undefined;
    return { changes: replace || olds.content !== news.content || onDisk !== news.content, replaces: replace ? ["path"] : [], deleteBeforeReplace: true };
  },

  async update(_id, olds, news) {
    const fs = require("node:fs") as typeof import("node:fs");
    const path = require("node:path") as typeof import("node:path");
    fs.mkdirSync(path.dirname(news.path), { recursive: true });
    write(news.path, news.content);
    return { outs: { ...news, ...(olds.createdDir !== undefined && { createdDir: olds.createdDir }) } };
  },

  async delete(_id, props) {
    const fs = require("node:fs") as typeof import("node:fs");
    const path = require("node:path") as typeof import("node:path");
    fs.rmSync(props.path, { force: true });
    if (props.createdDir === undefined) return;
    // Up to the folder create made, each only when empty: something else put there stays.
    for (let dir = path.dirname(props.path); dir.startsWith(props.createdDir); dir = path.dirname(dir)) {
      try {
        fs.rmdirSync(dir);
      } catch {
        return;
      }
    }
  },
});

export class KnownHostsFile extends pulumi.dynamic.Resource {
  declare readonly path: pulumi.Output<string>;

  constructor(name: string, args: KnownHostsFileArgs, opts?: pulumi.CustomResourceOptions) {
    super(knownHostsFileProvider, name, { ...args, createdDir: undefined }, deleteFirst(opts), "vm-cluster", "KnownHostsFile");
  }
}
