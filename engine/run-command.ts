// How a Pulumi program is started: pure functions, so the flags and environment the SDK's
// `cmd/run` receives can be unit-tested without an engine.

/** What the engine's RunRequest (plus the handshake) tells us about the program to run. */
export interface RunRequestFields {
  monitorAddress: string;
  engineAddress: string;
  project: string;
  stack: string;
  pwd: string;
  organization: string;
  rootDirectory: string;
  programDirectory: string;
  entryPoint: string;
  dryRun: boolean;
  parallel: number;
  args: string[];
  /** Keys as the engine sends them: `namespace:name`. */
  config: Record<string, string>;
  configSecretKeys: string[];
  typescript: boolean;
}

export interface ProgramCommand {
  /** Arguments for `node`. */
  args: string[];
  env: NodeJS.ProcessEnv;
}

/** Exit code of `cmd/run` when it has already shown the user an actionable message. */
export const BAIL_EXIT_CODE = 32;

/**
 * The SDK still reads config keys in the old `namespace:config:name` form, as the official host sends them.
 */
export function runtimeConfig(config: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    const colon = key.indexOf(":");
    if (colon <= 0) {
      throw new Error(`config key "${key}" has no namespace: expected "<project>:<name>"`);
    }
    out[`${key.slice(0, colon)}:config:${key.slice(colon + 1)}`] = value;
  }
  return out;
}

/**
 * The `node` argv and environment that start the program through @pulumi/pulumi's `cmd/run`,
 * resolved from the program's own folder so the program's copy of the SDK runs it.
 */
export function programCommand(req: RunRequestFields, baseEnv: NodeJS.ProcessEnv, resolve: (id: string, from: string) => string): ProgramCommand {
  let runPath: string;
  try {
    runPath = resolve("@pulumi/pulumi/cmd/run", req.programDirectory);
  } catch {
    throw new Error(`@pulumi/pulumi is not installed for the program in ${req.programDirectory}: run the project's setup (npm ci) first`);
  }
  const args = [runPath];
  const flag = (name: string, value: string) => {
    if (value !== "") args.push(`--${name}`, value);
  };
  flag("monitor", req.monitorAddress);
  flag("engine", req.engineAddress);
  flag("organization", req.organization);
  flag("project", req.project);
  flag("stack", req.stack);
  flag("pwd", req.pwd);
  flag("root-directory", req.rootDirectory);
  if (req.dryRun) args.push("--dry-run");
  flag("parallel", String(req.parallel));
  args.push(req.entryPoint, ...req.args);

  const env: NodeJS.ProcessEnv = {
    ...baseEnv,
    PULUMI_CONFIG: JSON.stringify(runtimeConfig(req.config)),
    PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(req.configSecretKeys),
    PULUMI_NODEJS_TYPESCRIPT: String(req.typescript),
  };
  return { args, env };
}

/** The RunResponse for a finished program: exit 0 is success, the bail code is reported as bail. */
export function runOutcome(code: number | null, signal: NodeJS.Signals | null): { error: string; bail: boolean } {
  if (code === 0) return { error: "", bail: false };
  if (code === BAIL_EXIT_CODE) return { error: "", bail: true };
  if (code !== null) return { error: `Program exited with non-zero exit code: ${code}`, bail: false };
  return { error: `Program was stopped by signal ${signal}`, bail: false };
}
