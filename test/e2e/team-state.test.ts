// Team state: one stack's state in a real PostgreSQL server (Debian's, started here, TLS and
// password only), two operators, each with a checkout, PULUMI_HOME, password file and passphrase
// file of their own, typing README's commands; one small VM (software emulation, 384 MiB):
//
//   A  logs in, makes the stack, up (the VM boots); meanwhile B's up is refused by the lock,
//      naming A's pid; after A's up, B's up succeeds with nothing to do
//   B  reads the console password A's up generated (the shared passphrase); another passphrase is
//      refused, changing nothing
//   B  up with a new CA certificate, killed (SIGKILL) while the VM installs it: the lock stays in the
//      database and A is refused, naming B's pid; A recovers as README's Reliability section says
//      (cancel, refresh --clear-pending-creates, up): the VM trusts the new CA, nothing is pending
//   A  destroy: nothing of the cluster is left on the host
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyProject, engineSandbox, projectRoot, type CliResult, type EngineSandbox } from "../../testbed/engine";
import { alive } from "../../testbed/host-state";
import { startTestImageMirror, type Mirror } from "../../testbed/mirror";
import { startPostgres, type Postgres } from "../../testbed/postgres";
import { cleanClusterByHand } from "../support/clean-by-hand";
import { throwawayCa } from "../../testbed/ca";
import { useLibvirt } from "../support/libvirt-fixture";
import { readmeCommand, runShell, userShellEnv } from "../support/readme";
import { childrenOf, leakAt, sleep, startPulumi, waitFor, type Running } from "../faults/fault-bed";

const lv = useLibvirt();
const MIRROR_PORT = 18_171;
const POSTGRES_PORT = 18_172;
const STACK = "team";
const CLUSTER = "teamx";
const NET = "10.231.64";
const PROJECT = "vm-cluster";

interface Operator {
  name: string;
  checkout: string;
  env: Record<string, string>;
}

let sandbox: EngineSandbox;
let db: Postgres | undefined;
let mirror: Mirror | undefined;
let keyFile: string;
let caFiles: string[];
let loginUrl: string;
let A: Operator;
let B: Operator;
let upStarted = false;
/** Plugin processes of a CLI this test killed: stopped in afterAll if still there. */
const orphans = new Set<number>();
/** CLIs started in the background: a failed check may leave one running, stopped in afterAll. */
const runs: Running[] = [];

const ns = (...argv: string[]) => execFileSync("ip", ["netns", "exec", lv.netns(), ...argv], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

/** An operator: a checkout, a home, a password file for the database and a passphrase file, all their own. */
function operator(name: string, passphrase: string): Operator {
  const home = path.join(sandbox.dir, name);
  const checkout = path.join(home, "vm-cluster");
  copyProject(checkout);
  const pgpass = path.join(home, "pgpass");
  writeFileSync(pgpass, `${db!.host}:${db!.port}:${db!.database}:${db!.user}:${db!.password}\n`, { mode: 0o600 });
  const passphraseFile = path.join(home, "passphrase");
  writeFileSync(passphraseFile, passphrase, { mode: 0o600 });
  // No backend URL: the wrapper is to take the operator's `pulumi login` (an empty one counts as none).
  const env = { PULUMI_BACKEND_URL: "", PULUMI_HOME: path.join(home, "pulumi-home"), PGPASSFILE: pgpass, PULUMI_CONFIG_PASSPHRASE_FILE: passphraseFile };
  return { name, checkout, env };
}

/** A command as README shows it, typed by an operator in their checkout. */
async function typed(op: Operator, command: string, expectOk = true): Promise<CliResult> {
  const r = await runShell(command, { cwd: op.checkout, env: userShellEnv(op.env), timeoutMs: 600_000 });
  if (expectOk) expect(r.code, `${op.name}: ${r.out}`).toBe(0);
  return r;
}

function start(op: Operator, ...args: string[]): Running {
  const run = startPulumi(op.checkout, userShellEnv(op.env), args);
  runs.push(run);
  return run;
}

function writeStackFile(op: Operator, caFile: string): void {
  const file = path.join(op.checkout, `Pulumi.${STACK}.yaml`);
  // Keep what `pulumi stack init` wrote (the passphrase's salt).
  const kept = existsSync(file) ? ((parseYaml(readFileSync(file, "utf8")) ?? {}) as object) : {};
  const doc = {
    ...kept,
    config: {
      "vm-cluster:cluster": CLUSTER,
      "vm-cluster:host": { type: "local", netns: lv.netns() },
      "vm-cluster:lan": { interface: "lan0", subnet: "10.231.200.0/24" },
      "vm-cluster:network": { cidr: `${NET}.0/24`, gateway: `${NET}.1`, dhcpStart: `${NET}.2`, dhcpEnd: `${NET}.254` },
      "vm-cluster:vms": [{ name: "boreas", ip: `${NET}.10` }],
      "vm-cluster:defaults": { disk: "3G", memoryMiB: 384, vcpus: 1 },
      "vm-cluster:sshPublicKey": { file: `${keyFile}.pub` },
      "vm-cluster:caCertificate": { file: caFile },
      "vm-cluster:image": { url: `${mirror!.url}test-image.qcow2`, checksumsUrl: mirror!.checksumsUrl },
      "vm-cluster:poolDir": `/var/lib/libvirt/images/${CLUSTER}`,
      "vm-cluster:domainType": "qemu",
      "vm-cluster:readinessTimeoutSeconds": 300,
      "vm-cluster:consolePassword": true,
    },
  };
  writeFileSync(file, toYaml(doc));
}

/** What the database holds of the stack: its lock rows and its checkpoint, read behind pulumi's back. */
const stateRows = (pattern: string) =>
  db!.sql(`SELECT key FROM pulumi_state WHERE key LIKE '${pattern}' ORDER BY key`, db!.database).split("\n").filter(Boolean);
const locks = () => stateRows(`%/.pulumi/locks/organization/${PROJECT}/${STACK}/%`);
function checkpoint(): { resources?: { urn: string }[]; pending_operations?: { resource: { urn: string }; type: string }[] } {
  const json = db!.sql(
    `SELECT convert_from(decode(data->>'data', 'base64'), 'UTF8') FROM pulumi_state WHERE key LIKE '%/.pulumi/stacks/${PROJECT}/${STACK}.json'`,
    db!.database,
  );
  return JSON.parse(json).checkpoint.latest ?? {};
}
const pending = () => (checkpoint().pending_operations ?? []).map((op) => `${op.resource.urn.split("::").pop()} ${op.type}`);
const domains = () =>
  ns("virsh", "-q", "-c", "qemu:///system", "list", "--all", "--name")
    .split("\n")
    .map((l) => l.trim())
    .filter((n) => n.startsWith(`${CLUSTER}-`));

async function onVm(op: Operator, command: string): Promise<string> {
  const out = JSON.parse((await typed(op, "pulumi stack output --json")).stdout) as { sshConfig: string };
  const config = path.join(sandbox.dir, `${op.name}.ssh_config`);
  writeFileSync(config, out.sshConfig);
  return ns("ssh", "-F", config, "-i", keyFile, "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "boreas", command).trim();
}

const knownHosts = (op: Operator) => path.join(op.checkout, ".vm-cluster", STACK, `${CLUSTER}.known_hosts`);

const LOCKED = /the stack is currently locked by 1 lock\(s\)\. Either wait for the other process\(es\) to end or delete the lock file with `pulumi cancel`\./;

beforeAll(async () => {
  sandbox = engineSandbox("team");
  db = await startPostgres(POSTGRES_PORT);
  mirror = await startTestImageMirror(path.join(sandbox.dir, "mirror"), lv.netns(), MIRROR_PORT);
  keyFile = path.join(sandbox.dir, "id_ed25519");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "team@test", "-f", keyFile]);
  caFiles = ["team CA 1", "team CA 2"].map((cn, i) => {
    const file = path.join(sandbox.dir, `ca${i + 1}.pem`);
    writeFileSync(file, throwawayCa(cn));
    return file;
  });
  A = operator("a", "the team's passphrase\n");
  // README: the passphrase reaches B once, over an encrypted channel, into B's passphrase file.
  B = operator("b", readFileSync(A.env.PULUMI_CONFIG_PASSPHRASE_FILE!, "utf8"));
  loginUrl = readmeCommand("pulumi login 'postgres://<user>@<server>:<port>/<database>?sslmode=verify-full&sslrootcert=/etc/ssl/certs/lab-db-ca.pem'", {
    "<user>": db.user,
    "<server>": db.host,
    "<port>": String(db.port),
    "<database>": db.database,
    "/etc/ssl/certs/lab-db-ca.pem": db.caFile,
  });
}, 900_000);

afterAll(async () => {
  for (const run of runs.filter((r) => r.child.exitCode === null && r.child.signalCode === null)) {
    for (const p of childrenOf(run.pid)) orphans.add(p);
    run.child.kill("SIGKILL");
    await run.done;
  }
  for (const pid of orphans) if (alive(pid)) process.kill(pid, "SIGKILL");
  if (upStarted && A) {
    await typed(A, "pulumi cancel --yes", false);
    const r = await typed(A, "pulumi destroy --yes --skip-preview", false);
    if (r.code !== 0) console.error(`team-state: destroy failed; cleaning by hand:\n${r.out}`);
    cleanClusterByHand(CLUSTER, lv.netns());
  }
  mirror?.stop();
  await db?.stop();
  sandbox?.cleanup();
}, 900_000);

describe("team state in PostgreSQL", () => {
  it("two operators on one stack: the second up while the first runs is refused by the lock, and succeeds after", async () => {
    for (const op of [A, B]) expect((await typed(op, loginUrl)).out).toContain(`Logged in to`);
    // A makes the stack; the stack file (config and the passphrase's salt) reaches B as git would carry it.
    await typed(A, readmeCommand("pulumi stack init <stack>", { "<stack>": STACK }));
    writeStackFile(A, caFiles[0]!);
    copyFileSync(path.join(A.checkout, `Pulumi.${STACK}.yaml`), path.join(B.checkout, `Pulumi.${STACK}.yaml`));
    expect(stateRows(`%/.pulumi/stacks/${PROJECT}/${STACK}.json`)).toHaveLength(1);

    upStarted = true;
    const first = start(A, "up", "--yes", "--skip-preview");
    await waitFor("the lock of A's up in the database", () => locks().length > 0 || first.child.exitCode !== null, 120_000);
    // B selects the stack from the database (nothing of it was made in B's checkout).
    await typed(B, readmeCommand("pulumi stack select <stack>", { "<stack>": STACK }));
    const refused = await typed(B, "pulumi up --yes", false);
    expect(refused.code, refused.out).not.toBe(0);
    expect(refused.out).toMatch(LOCKED);
    expect(refused.out).toContain(`(pid ${first.pid})`);
    const done = await first.done;
    expect(done.code, done.out).toBe(0);
    expect(locks()).toEqual([]);

    // B's up writes B's own hand-off file (the known_hosts of B's checkout) and leaves A's; nothing else.
    const after = await typed(B, "pulumi up --yes");
    expect(after.out).toMatch(/Resources:\s+~ 1 updated\s+\d+ unchanged/);
    expect(after.out).toMatch(new RegExp(`${CLUSTER}-known-hosts\\s+updated`));
    for (const op of [A, B]) expect(existsSync(knownHosts(op)), op.name).toBe(true);
    await typed(B, "pulumi preview --expect-no-changes");
  }, 900_000);

  it("both read the stack's secrets with the shared passphrase, which the database holds only encrypted; another passphrase is refused and changes nothing", async () => {
    const show = readmeCommand("pulumi stack output consolePassword --show-secrets");
    const ofA = (await typed(A, show)).stdout.trim();
    expect(ofA).toMatch(/^\S{16,}$/);
    expect((await typed(B, show)).stdout.trim()).toBe(ofA);
    // In the database only encrypted: no row of the state table (state, history, backups) holds it.
    const rows = db!.sql(`SELECT convert_from(decode(data->>'data', 'base64'), 'UTF8') FROM pulumi_state`, db!.database);
    expect(rows).toContain("consolePassword");
    expect(leakAt(rows, ofA)).toBeUndefined();
    const otherPassphrase = path.join(sandbox.dir, "other-passphrase");
    writeFileSync(otherPassphrase, "a passphrase of B's own set-up\n", { mode: 0o600 });
    const before = JSON.stringify(checkpoint());
    const wrong = await runShell("pulumi up --yes", { cwd: B.checkout, env: userShellEnv({ ...B.env, PULUMI_CONFIG_PASSPHRASE_FILE: otherPassphrase }) });
    expect(wrong.code, wrong.out).not.toBe(0);
    expect(wrong.out).toContain("incorrect passphrase");
    expect(locks()).toEqual([]);
    expect(JSON.stringify(checkpoint())).toBe(before);
    // The password works where it is for: root on the VM has it.
    expect(await onVm(B, "getent shadow root | cut -d: -f2 | cut -c1-3")).toBe("$6$");
  }, 300_000);

  it("survives a killed up: the lock stays in the database; README's cancel, refresh, up converge from the other checkout", async () => {
    writeStackFile(B, caFiles[1]!);
    const run = start(B, "up", "--yes", "--skip-preview");
    await waitFor(
      "B's up to install the new CA on the VM",
      () => new RegExp(`${CLUSTER}-boreas-settings\\s+updating`).test(run.out()) || run.child.exitCode !== null,
      300_000,
    );
    expect(run.child.exitCode, run.out()).toBeNull();
    await sleep(2_000);
    for (const p of childrenOf(run.pid)) orphans.add(p);
    run.child.kill("SIGKILL");
    await run.done;
    for (const p of orphans) await waitFor(`plugin ${p} of the killed up to exit`, () => !alive(p), 15_000);

    expect(locks()).toHaveLength(1);
    copyFileSync(path.join(B.checkout, `Pulumi.${STACK}.yaml`), path.join(A.checkout, `Pulumi.${STACK}.yaml`));
    const refused = await typed(A, "pulumi up --yes", false);
    expect(refused.out).toMatch(LOCKED);
    expect(refused.out).toContain(`(pid ${run.pid})`);
    expect((await typed(A, readmeCommand("pulumi cancel --yes"))).out).toContain("has been canceled");
    expect(locks()).toEqual([]);
    await typed(A, readmeCommand("pulumi refresh --clear-pending-creates --yes"));
    await typed(A, readmeCommand("pulumi up"));
    expect(pending()).toEqual([]);
    expect(await onVm(A, `cat /etc/ssl/certs/${CLUSTER}.pem`)).toBe(readFileSync(caFiles[1]!, "utf8").trim());
    expect(domains()).toEqual([`${CLUSTER}-boreas`]);
    // Converged: nothing left to do, from either checkout (each has its known_hosts file by now).
    for (const op of [A, B]) await typed(op, "pulumi preview --expect-no-changes");
  }, 900_000);

  it("destroy leaves nothing of the cluster on the host and the other checkout's hand-off file where it is; logout returns to file state", async () => {
    await typed(A, readmeCommand("pulumi destroy"));
    upStarted = false;
    expect(domains()).toEqual([]);
    expect(checkpoint().resources ?? []).toEqual([]);
    // README: destroy removes the hand-off file of the checkout it runs in; the others stay.
    expect([existsSync(knownHosts(A)), existsSync(knownHosts(B))]).toEqual([false, true]);
    // Logged out, the wrapper is back on its project's file state.
    await typed(A, readmeCommand("pulumi logout"));
    expect((await typed(A, "pulumi whoami -v")).out).toContain(`Backend URL: file://${path.join(projectRoot, ".state")}\n`);
  }, 600_000);
});
