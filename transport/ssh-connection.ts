// Commands on a remote VM host over SSH (the ssh2 library: no ssh binary, no agent needed).
// Key authentication only, and the host key must match the one configured: no trust on first use.
import { createHash } from "node:crypto";
import type { Client as SshClient } from "ssh2";
import {
  commandError,
  commandSeconds,
  KILL_AFTER_SECONDS,
  settle,
  shellQuote,
  timeoutError,
  wrapArgv,
  type CommandResult,
  type CommonConnectionSpec,
  type HostConnection,
  type RunOptions,
} from "./command";

export interface SshConnectionSpec extends CommonConnectionSpec {
  type: "ssh";
  host: string;
  port?: number;
  user: string;
  /** The private key itself (OpenSSH or PEM text): pass it as a Pulumi secret. */
  privateKey: string;
  /** The host's public key as a known_hosts / `.pub` line ("ssh-ed25519 AAAA..."), or its "SHA256:..." fingerprint. */
  hostKey: string;
}

/** Whether the key the server presented is the configured one. */
export function hostKeyMatches(presented: Buffer, configured: string): boolean {
  const want = configured.trim();
  if (want.startsWith("SHA256:")) {
    const fingerprint = createHash("sha256").update(presented).digest("base64").replace(/=+$/, "");
    return fingerprint === want.slice("SHA256:".length).replace(/=+$/, "");
  }
  // A known_hosts line may start with host names; the key blob is the base64 word after the type.
  const words = want.split(/\s+/);
  const typeAt = words.findIndex((w) => /^(ssh-|ecdsa-|sk-)/.test(w));
  return typeAt >= 0 && words[typeAt + 1] === presented.toString("base64");
}

/** A link that stops answering is noticed within KEEPALIVE_MS × KEEPALIVE_COUNT, whatever runs on it. */
export const KEEPALIVE_MS = 5_000;
export const KEEPALIVE_COUNT = 3;

/** What an ssh2 connection error means for the user, with the library's own words kept. */
export function explainSshError(message: string, where: { host: string; port: number; user: string }): string {
  const at = `${where.host}:${where.port}`;
  const hint = /ECONNREFUSED/.test(message)
    ? `nothing accepts SSH connections on ${at} (connection refused): check host.host and host.port, and that sshd runs there`
    : /Timed out while waiting for handshake|ETIMEDOUT/.test(message)
      ? `${at} did not answer: check host.host, host.port, the route to it and firewalls`
      : /EHOSTUNREACH|ENETUNREACH/.test(message)
        ? `no route to ${where.host}: check host.host and this machine's network`
        : /ENOTFOUND|EAI_AGAIN/.test(message)
          ? `cannot resolve the host name ${where.host}: check host.host`
          : /Keepalive timeout/i.test(message)
            ? `${at} stopped answering (no reply to SSH keepalives for ${(KEEPALIVE_MS * KEEPALIVE_COUNT) / 1000} s): the link dropped or the host hangs`
            : /authentication methods failed/.test(message)
              ? `${at} refused the key for user ${where.user}: check host.user and host.privateKey (its public half in that user's ~/.ssh/authorized_keys)`
              : undefined;
  return hint ? `SSH: ${hint} (${message})` : `SSH: ${message}`;
}

/** How long after our time limit the host's `timeout` sends TERM to a command (KILL_AFTER_SECONDS later). */
export const REMOTE_GRACE_SECONDS = 5;

export class SshConnection implements HostConnection {
  readonly description: string;

  constructor(private readonly spec: SshConnectionSpec) {
    this.description = `${spec.user}@${spec.host}:${spec.port ?? 22}`;
  }

  run(argv: string[], opts: RunOptions = {}): Promise<CommandResult> {
    const seconds = commandSeconds(opts);
    // A command outlives its SSH session, and ssh2 sends no signal once the input has ended: the
    // host's own `timeout` stops it (and what it started), a little after we stop waiting for it.
    const bounded = ["timeout", `--kill-after=${KILL_AFTER_SECONDS}`, String(seconds + REMOTE_GRACE_SECONDS), ...argv];
    const command = shellQuote(["env", "LC_ALL=C", ...wrapArgv(this.spec, bounded)]);
    return new Promise((resolve, reject) => {
      // Loaded on first use: most runs manage only the local host, and every run of the program and
      // of each provider process would pay for loading the library (~30 ms here).
      const { Client } = require("ssh2") as { Client: typeof SshClient };
      const client = new Client();
      let hostKeyRejected = false;
      const fail = (message: string) => {
        client.end();
        reject(commandError(argv, null, message, this.description, false));
      };
      const where = { host: this.spec.host, port: this.spec.port ?? 22, user: this.spec.user };
      client.on("error", (e) =>
        fail(hostKeyRejected ? `the host key of ${this.spec.host} does not match the configured hostKey` : explainSshError(e.message, where)),
      );
      let timer: NodeJS.Timeout | undefined;
      client.on("close", () => clearTimeout(timer));
      client.on("ready", () => {
        client.exec(command, (err, stream) => {
          if (err) return fail(`SSH exec: ${err.message}`);
          const out: Buffer[] = [];
          const errOut: Buffer[] = [];
          timer = setTimeout(() => {
            client.end();
            reject(timeoutError(argv, seconds, Buffer.concat(errOut).toString("utf8"), this.description));
          }, seconds * 1000);
          stream.on("data", (b: Buffer) => out.push(b));
          stream.stderr.on("data", (b: Buffer) => errOut.push(b));
          stream.on("close", (code: number | null) => {
            clearTimeout(timer);
            client.end();
            const s = settle(argv, this.description, opts, code, out, errOut);
            if (s.ok) resolve(s.result);
            else reject(s.error);
          });
          stream.end(opts.input ?? "");
        });
      });
      client.connect({
        host: this.spec.host,
        port: this.spec.port ?? 22,
        username: this.spec.user,
        privateKey: this.spec.privateKey,
        readyTimeout: 20_000,
        keepaliveInterval: KEEPALIVE_MS,
        keepaliveCountMax: KEEPALIVE_COUNT,
        hostVerifier: (key: Buffer) => {
          hostKeyRejected = !hostKeyMatches(key, this.spec.hostKey);
          return !hostKeyRejected;
        },
      });
      // Commands are small request/response exchanges: Nagle's algorithm only adds latency (~40 ms each).
      client.setNoDelay(true);
    });
  }
}
