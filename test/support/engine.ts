// The real pulumi engine for tests: the wrapper that setup wrote, with a throw-away file backend
// and passphrase per test, so tests never touch the user's state.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

export const projectRoot = path.resolve(__dirname, "../..");
export const toolsRoot = path.join(projectRoot, ".tools");
export const pulumiBin = path.join(toolsRoot, "bin", "pulumi");

export interface EngineSandbox {
  dir: string;
  backendDir: string;
  env: Record<string, string>;
  cleanup(): void;
}

export function engineSandbox(prefix: string): EngineSandbox {
  if (!existsSync(pulumiBin)) {
    throw new Error(`${pulumiBin} is missing: run tools/setup.sh (npm test does) first`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), `vmc-${prefix}-`));
  const backendDir = path.join(dir, "state");
  const passphraseFile = path.join(dir, "passphrase");
  mkdirSync(backendDir);
  writeFileSync(passphraseFile, "test-passphrase\n", { mode: 0o600 });
  const env = {
    PULUMI_BACKEND_URL: `file://${backendDir}`,
    PULUMI_CONFIG_PASSPHRASE_FILE: passphraseFile,
    PULUMI_HOME: path.join(dir, "home"),
  };
  return { dir, backendDir, env, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
