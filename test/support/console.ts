// A login on a VM's serial console as a person does it with `virsh console`: that needs a
// terminal, which `script` provides; the test types into it and reads the screen.
import { spawn } from "node:child_process";

export interface ConsoleSession {
  /** A shell prompt appeared after the password. */
  loggedIn: boolean;
  /** Ctrl+] ended `virsh console` (else it was killed). */
  detached: boolean;
  /** What `then` printed, one line each, prompts and the echoed command excluded. */
  output: string;
  /** The whole screen, for failure messages. */
  transcript: string;
}

// eslint-disable-next-line no-control-regex -- terminal escape sequences start with ESC
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Za-z]/g;
const PROMPT = /\w+@[\w-]+:[^\n]*[#$] ?$/;

/**
 * Runs the console command, logs in as `user` with `password`, runs `then` when logged in, logs
 * out, and leaves with Ctrl+] (virsh's escape character), sent alone once the login prompt is
 * back. Fails only on a timeout.
 */
export async function consoleLogin(command: string, user: string, password: string, then?: string, timeoutMs = 180_000): Promise<ConsoleSession> {
  const child = spawn("script", ["-q", "-f", "-e", "-c", command, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"] });
  // Raw bytes as they come: an escape sequence may be split across chunks, so it is removed from
  // the text being read, never from a chunk.
  let raw = "";
  child.stdout.on("data", (b: Buffer) => (raw += b.toString("utf8")));
  child.stderr.on("data", (b: Buffer) => (raw += b.toString("utf8")));
  const screenFrom = (from: number) => raw.slice(from).replace(ANSI, "");
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  const deadline = Date.now() + timeoutMs;
  const type = (text: string) => child.stdin.write(text);
  /** Waits until the screen after `from` matches; Enter every few seconds wakes a quiet getty. */
  const until = async (from: number, pattern: RegExp, nudge = false): Promise<RegExpExecArray> => {
    let lastNudge = 0;
    for (;;) {
      const match = pattern.exec(screenFrom(from));
      if (match) return match;
      if (child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`the console did not show ${pattern} within ${timeoutMs / 1000} s:\n${screenFrom(0).slice(-3000)}`);
      }
      if (nudge && Date.now() - lastNudge > 3_000) {
        type("\r");
        lastNudge = Date.now();
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  try {
    await until(0, /Escape character is/);
    await until(raw.length, /login: ?$/, true);
    type(`${user}\r`);
    await until(raw.length, /Password: ?$/);
    const afterPassword = raw.length;
    type(`${password}\r`);
    const result = await until(afterPassword, new RegExp(`Login incorrect|${PROMPT.source}`, "m"));
    if (result[0].startsWith("Login incorrect")) {
      await until(afterPassword, /login: ?$/);
      return { loggedIn: false, output: "", detached: await detach(), transcript: screenFrom(0) };
    }
    let output = "";
    if (then !== undefined) {
      const before = raw.length;
      type(`${then}\r`);
      await until(before, new RegExp(`\\n[^\\n]*${PROMPT.source}`, "m"));
      output = screenFrom(before)
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter((line) => line !== then && !PROMPT.test(line) && line !== "")
        .join("\n");
    }
    const loggedOut = raw.length;
    type("exit\r");
    await until(loggedOut, /login: ?$/, true);
    return { loggedIn: true, output, detached: await detach(), transcript: screenFrom(0) };
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
    await exited;
  }

  /** Ctrl+] on its own, then up to 10 s for virsh (and script) to end. */
  async function detach(): Promise<boolean> {
    await new Promise((r) => setTimeout(r, 500));
    type("\x1d");
    return Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 10_000))]);
  }
}
