// The commands README.md shows, so that tests run exactly those and a README edit that changes
// one breaks the test that runs it. test/unit/readme-commands.test.ts checks that every command
// shown is run by some test (a `readmeCommand(...)` call with its text) or by CI.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { pulumiBin, runProcess, type CliResult, type RunOptions } from "./engine";

export const README = path.resolve(__dirname, "../../README.md");

export interface ShownCommand {
  /** The command as a user types it: comments dropped, whitespace collapsed. */
  text: string;
  /** 1-based line in README.md where it starts. */
  line: number;
  /** A line of a ```sh block, or inline code in the prose. */
  kind: "block" | "inline";
}

// Inline code counts as a command when it starts with one of these (after any VAR=value) and has
// arguments: `pulumi up` is a command, `pulumi` or `ssh` alone is a name.
const COMMAND_WORDS = ["pulumi", "npm", "npx", "ssh", "ssh-keygen", "virsh", "ip", "ps"];
const INLINE_COMMAND = new RegExp(`^(?:[A-Z_]+=\\S+\\s+)*(?:${COMMAND_WORDS.join("|")})\\s+\\S`);

/** Every command README.md shows, in order, each text once. */
export function shownCommands(readme: string = readFileSync(README, "utf8")): ShownCommand[] {
  const found: ShownCommand[] = [];
  const lines = readme.split("\n");
  let fence: string | undefined;
  let prose: { text: string; line: number }[] = [];
  lines.forEach((raw, index) => {
    const opening = /^(\s*)```(\w*)\s*$/.exec(raw);
    if (fence === undefined && opening) {
      fence = opening[2]!;
      return;
    }
    if (fence !== undefined) {
      if (/^\s*```\s*$/.test(raw)) fence = undefined;
      else if (fence === "sh") {
        const text = withoutComment(raw).trim().replace(/\s+/g, " ");
        if (text !== "") found.push({ text, line: index + 1, kind: "block" });
      }
      return;
    }
    prose.push({ text: raw, line: index + 1 });
  });
  found.push(...inlineCommands(prose));
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

/** Code spans of the prose (a span may wrap onto the next line; ``a `b` c`` spans are one span). */
function inlineCommands(prose: { text: string; line: number }[]): ShownCommand[] {
  const text = prose.map((p) => p.text).join("\n");
  const lineAt = (offset: number) => prose[text.slice(0, offset).split("\n").length - 1]!.line;
  const commands: ShownCommand[] = [];
  for (const match of text.matchAll(/(`+)([\s\S]*?[^`])\1(?!`)/g)) {
    const code = match[2]!.trim().replace(/\s+/g, " ");
    if (INLINE_COMMAND.test(code)) commands.push({ text: code, line: lineAt(match.index!), kind: "inline" });
  }
  return commands;
}

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
    if (!command.includes(placeholder)) throw new Error(`\`${text}\` has no placeholder ${placeholder}`);
    command = command.replaceAll(placeholder, value);
  }
  return command;
}

export interface ShellOptions extends RunOptions {
  /** Run inside this network namespace (`ip netns exec`), where a test's VMs are reachable. */
  netns?: string;
}

/** Runs a command line with bash, as a user's shell would (redirections, `~`, `$(...)`). */
export async function runShell(command: string, options: ShellOptions): Promise<CliResult> {
  const argv = [...(options.netns !== undefined ? ["ip", "netns", "exec", options.netns] : []), "bash", "-c", command];
  const result = await runProcess(argv[0]!, argv.slice(1), options);
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
