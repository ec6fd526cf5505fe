// The files of an sshd of the tests' own (keys, authorized_keys, config), wherever it runs: in a
// namespace of a test's, or in a second host's.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";

/**
 * Host and client keys, authorized_keys and an sshd_config in `dir` for an sshd of the tests' own:
 * key login for root only, and no dotfile side effects.
 */
export function writeSshdFiles(dir: string, listenAddress: string, extraConfig: string[] = []): void {
  const keygen = (...args: string[]) => execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", ...args], { stdio: "ignore" });
  keygen("-f", path.join(dir, "host_key"));
  keygen("-C", "tests@vm-cluster", "-f", path.join(dir, "client_key"));
  writeFileSync(path.join(dir, "authorized_keys"), readFileSync(path.join(dir, "client_key.pub")), { mode: 0o600 });
  writeFileSync(
    path.join(dir, "sshd_config"),
    [
      `ListenAddress ${listenAddress}`,
      `HostKey ${path.join(dir, "host_key")}`,
      `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
      `PidFile ${path.join(dir, "sshd.pid")}`,
      "PermitRootLogin prohibit-password",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "StrictModes no",
      // Debian's bash sources ~/.bashrc for a command over SSH unless SHLVL says it is nested: keep the
      // account's dotfiles (here: pyenv's init, ~120 ms a command, and shims first on PATH) out of the tests.
      "SetEnv SHLVL=1",
      ...extraConfig,
      "",
    ].join("\n"),
  );
  mkdirSync("/run/sshd", { recursive: true });
}
