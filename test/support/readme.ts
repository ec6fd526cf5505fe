// The commands README.md shows, so that tests run exactly those and a README edit that changes
// one breaks the test that runs it. test/unit/readme-commands.test.ts checks that every command
// shown is run by some test (a `readmeCommand(...)` call with its text) or by CI.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { pulumiBin, runProcess, type CliResult, type RunOptions } from "../../testbed/engine";

export const README = path.resolve(__dirname, "../../README.md");

export interface ShownCommand {
  /** The command as a user types it: comments dropped, whitespace collapsed. */
  text: string;
  /** 1-based line in README.md where it starts. */
  line: number;
  /** A line of a shell block, or inline code in the prose. */
  kind: "block" | "inline";
}

/** Fences whose lines are commands to type. Any other fence must name its language (see fenceLanguages). */
export const SHELL_FENCES = new Set(["sh", "bash", "shell", "console"]);

/** The language of every fenced block, in order ("" for none): a block of commands must be a shell one. */
export function fenceLanguages(readme: string = readFileSync(README, "utf8")): string[] {
  return [...readme.matchAll(/^\s*(?:```|~~~)(.*)$/gm)].filter((_, i) => i % 2 === 0).map((m) => m[1]!.trim());
}

/** Programs whose use in prose is a command to type, besides those README's shell blocks run. */
export const PROGRAMS = [
  "pulumi",
  "npm",
  "npx",
  "node",
  "ssh",
  "ssh-keygen",
  "virsh",
  "ip",
  "ps",
  "kill",
  "iptables",
  "sudo",
  "curl",
  "ansible",
  "ansible-playbook",
  "ansible-inventory",
  "systemctl",
  "sysctl",
  "qemu-img",
];

const programOf = (code: string) => code.replace(/^(?:[A-Z_]+=\S+\s+)+/, "").split(" ")[0]!;

/**
 * Every command README.md shows, in order, each text once: the lines of shell blocks, and inline
 * code whose first word is a program that README's shell blocks run, or one of PROGRAMS, given
 * arguments (`pulumi up`, not `pulumi` alone), after any VAR=value settings. From README's text
 * alone: what this machine has installed does not change what counts.
 */
export function shownCommands(readme: string = readFileSync(README, "utf8")): ShownCommand[] {
  const found: ShownCommand[] = [];
  let fence: string | undefined;
  const prose: { text: string; line: number }[] = [];
  readme.split("\n").forEach((raw, index) => {
    const marker = /^\s*(?:```|~~~)(.*)$/.exec(raw);
    if (marker) {
      fence = fence === undefined ? marker[1]!.trim().split(/\s+/)[0]! : undefined;
      prose.push({ text: "", line: index + 1 }); // a fence ends a paragraph
      return;
    }
    if (fence !== undefined) {
      if (SHELL_FENCES.has(fence)) {
        const text = withoutComment(raw).trim().replace(/\s+/g, " ");
        if (text !== "") found.push({ text, line: index + 1, kind: "block" });
      }
      return;
    }
    prose.push({ text: raw, line: index + 1 });
  });
  const programs = new Set([...PROGRAMS, ...found.map((c) => programOf(c.text))]);
  found.push(...inlineCommands(prose, programs));
  const seen = new Set<string>();
  return found.filter((c) => !seen.has(c.text) && seen.add(c.text)).sort((a, b) => a.line - b.line);
}

/** A shell line without its trailing `# comment` (a `#` outside quotes, after a blank or at the start). */
function withoutComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(line[i - 1]!))) return line.slice(0, i);
  }
  return line;
}

/** Code spans of the prose, paragraph by paragraph (a span may wrap; ``a `b` c`` is one span). */
function inlineCommands(prose: { text: string; line: number }[], programs: ReadonlySet<string>): ShownCommand[] {
  const commands: ShownCommand[] = [];
  let paragraph: { text: string; line: number }[] = [];
  const flush = () => {
    const text = paragraph.map((p) => p.text).join("\n");
    for (const match of text.matchAll(/(`+)([\s\S]*?[^`])\1(?!`)/g)) {
      const code = match[2]!.trim().replace(/\s+/g, " ");
      const line = paragraph[text.slice(0, match.index).split("\n").length - 1]!.line;
      if (isCommand(code, programs)) commands.push({ text: code, line, kind: "inline" });
    }
    paragraph = [];
  };
  for (const p of prose) {
    if (p.text.trim() === "") flush();
    else paragraph.push(p);
  }
  flush();
  return commands;
}

function isCommand(code: string, programs: ReadonlySet<string>): boolean {
  const words = code.replace(/^(?:[A-Z_]+=\S+\s+)+/, "").split(" ");
  return words.length >= 2 && programs.has(words[0]!);
}

/** What a test may put in for a README command's placeholder: `<name>`, `N`, a `...` elision, or an absolute path (one that differs by machine). */
const PLACEHOLDER = /^(?:<[\w-]+>(?:-<[\w-]+>)*|N|.*\.\.\..*|\/\S+)$/;

/**
 * The command README.md shows with exactly this text, its placeholders (`<cluster>`, `N`, a path
 * that differs on this machine) replaced as given. Throws when README no longer shows it.
 */
export function readmeCommand(text: string, placeholders: Record<string, string> = {}): string {
  const shown = shownCommands();
  if (!shown.some((c) => c.text === text)) {
    throw new Error(`README.md no longer shows the command \`${text}\`: update the test that runs it along with README`);
  }
  let command = text;
  for (const [placeholder, value] of Object.entries(placeholders)) {
    if (!PLACEHOLDER.test(placeholder))
      throw new Error(`${placeholder} is not a placeholder (<name>, N, ..., or an absolute path): a test must type README's command as shown`);
    const at = new RegExp(`(?<![\\w<])${placeholder.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![\\w>])`, "g");
    if (!at.test(command)) throw new Error(`\`${text}\` has no placeholder ${placeholder}`);
    command = command.replace(at, () => value);
  }
  return command;
}

export interface ShellOptions extends RunOptions {
  /** Run inside this network namespace (`ip netns exec`), where a test's VMs are reachable. */
  netns?: string;
}

/**
 * Runs a command line with bash, as a user's shell would (redirections, `~`, `$(...)`). On
 * timeout the whole line gets Ctrl-C's SIGINT, so a pulumi in it releases its lock.
 */
export async function runShell(command: string, options: ShellOptions): Promise<CliResult> {
  const argv = [...(options.netns !== undefined ? ["ip", "netns", "exec", options.netns] : []), "bash", "-c", command];
  const result = await runProcess(argv[0]!, argv.slice(1), { timeoutSignal: "SIGINT", ...options, group: true });
  return { ...result, out: `$ ${command}\n${result.out}` };
}

/**
 * A user's shell after README's `export PATH=...` line, with a sandbox's state: the project's
 * `pulumi` first on PATH. PULUMI_SKIP_CONFIRMATIONS answers the "perform this update?" prompt
 * that `pulumi up` and `pulumi destroy` show a user, as tests have no terminal to answer it on.
 */
export function userShellEnv(sandboxEnv: Record<string, string>, extra: Record<string, string> = {}): Record<string, string> {
  return { ...sandboxEnv, PATH: `${path.dirname(pulumiBin)}:${process.env.PATH ?? ""}`, PULUMI_SKIP_CONFIRMATIONS: "true", ...extra };
}
