// Paths in generated SSH options come from the caller (stack outputs), so anything the
// format cannot carry is refused rather than mangled. Shell quoting is transport/command's.
import { isSshConfigPath } from "../model/identifiers";

/**
 * A path as an ssh_config argument (also valid inside Ansible's ansible_ssh_common_args, which
 * is split like a shell line): double-quoted when it has spaces. ssh expands a leading `~` itself.
 */
export function sshConfigPath(path: string): string {
  if (!isSshConfigPath(path))
    throw new Error(`cannot write path ${JSON.stringify(path)} into ssh options: it is empty or has quotes, backslashes, newlines, % or $`);
  return /\s/.test(path) ? `"${path}"` : path;
}
