// A real PostgreSQL server for the team-state tests: Debian's server binaries run as the postgres
// user on a data folder of its own, on loopback only, TLS only (a certificate made here, checked by
// clients with sslmode=verify-full), password logins. Stopped by pid, its folder removed.
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { alive } from "./host-state";
import { sleep, waitFor } from "./wait";

export interface Postgres {
  host: string;
  port: number;
  /** The database and login role that hold the state; the role owns the database and nothing else. */
  database: string;
  user: string;
  password: string;
  /** The server's certificate, which clients trust (sslrootcert) to verify it. */
  caFile: string;
  pid: number;
  /** Runs SQL as the server's superuser; the rows, one per line, columns separated by `|`. */
  sql(query: string, database?: string): string;
  stop(): Promise<void>;
}

const ADMIN = "vmc_admin";

/** Debian's server binaries: the newest /usr/lib/postgresql/<major>/bin. */
function serverBin(): string {
  const root = "/usr/lib/postgresql";
  const majors = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v) && existsSync(path.join(root, v, "bin", "postgres"))) : [];
  if (majors.length === 0) throw new Error(`no PostgreSQL server under ${root}: run tools/setup.sh, which installs Debian's postgresql`);
  return path.join(root, String(Math.max(...majors.map(Number))), "bin");
}

function systemUser(name: string): { uid: number; gid: number } {
  try {
    const id = (flag: string) => Number(execFileSync("id", [flag, name], { encoding: "utf8" }).trim());
    return { uid: id("-u"), gid: id("-g") };
  } catch {
    throw new Error(`no system user ${name} (Debian's postgresql package makes it): run tools/setup.sh`);
  }
}

export async function startPostgres(port: number): Promise<Postgres> {
  const bin = serverBin();
  const owner = systemUser("postgres");
  const dir = mkdtempSync(path.join(tmpdir(), "vmc-postgres-"));
  const data = path.join(dir, "data");
  const caFile = path.join(dir, "server.crt");
  const keyFile = path.join(dir, "server.key");
  const asPostgres = { uid: owner.uid, gid: owner.gid, cwd: dir };
  const adminPassword = `admin-${process.pid}-${Date.now()}`;
  try {
    chownSync(dir, owner.uid, owner.gid);
    const pwFile = path.join(dir, "admin-password");
    writeFileSync(pwFile, `${adminPassword}\n`, { mode: 0o600 });
    chownSync(pwFile, owner.uid, owner.gid);
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-noenc",
        "-days",
        "2",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-keyout",
        keyFile,
        "-out",
        caFile,
      ],
      { stdio: "ignore" },
    );
    chmodSync(keyFile, 0o600);
    chownSync(keyFile, owner.uid, owner.gid);
    execFileSync(path.join(bin, "initdb"), ["-D", data, "-U", ADMIN, `--pwfile=${pwFile}`, "-A", "scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"], {
      ...asPostgres,
      stdio: "ignore",
    });
    // Nothing but TLS with a password, from loopback.
    writeFileSync(path.join(data, "pg_hba.conf"), "hostssl all all 127.0.0.1/32 scram-sha-256\n");
  } catch (e) {
    rmSync(dir, { recursive: true, force: true }); // it holds the admin password and the server's key
    throw e;
  }

  const log = path.join(dir, "server.log");
  const settings = {
    listen_addresses: "127.0.0.1",
    port: String(port),
    unix_socket_directories: dir,
    ssl: "on",
    ssl_cert_file: caFile,
    ssl_key_file: keyFile,
    fsync: "off",
  };
  const server = spawn(path.join(bin, "postgres"), ["-D", data, ...Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${v}`])], {
    ...asPostgres,
    stdio: ["ignore", openSync(log, "a"), openSync(log, "a")],
    detached: true,
  });
  server.unref();
  const pid = server.pid!;
  const stop = async () => {
    if (alive(pid)) process.kill(pid, "SIGINT"); // fast shutdown: clients are cut off
    await waitFor("PostgreSQL to stop", () => !alive(pid), 15_000).catch(() => process.kill(pid, "SIGKILL"));
    rmSync(dir, { recursive: true, force: true });
  };

  const url = (database: string) => `postgres://${ADMIN}@127.0.0.1:${port}/${database}?sslmode=verify-full&sslrootcert=${caFile}`;
  const sql = (query: string, database = "postgres") =>
    // The query on standard input: a password in it stays out of `ps`.
    execFileSync("psql", ["-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-", url(database)], {
      input: query,
      encoding: "utf8",
      maxBuffer: 256 * 1024 * 1024,
      env: { ...process.env, PGPASSWORD: adminPassword, PGCONNECT_TIMEOUT: "5" },
      stdio: ["pipe", "pipe", "pipe"],
    }).trim();
  try {
    const until = Date.now() + 30_000;
    while (!/database system is ready to accept connections/.test(readFileSync(log, "utf8"))) {
      if (!alive(pid) || Date.now() > until) throw new Error(`PostgreSQL did not start:\n${readFileSync(log, "utf8")}`);
      await sleep(100);
    }
    const user = "vmc";
    const password = `state-${process.pid}-${Date.now()}`;
    sql(`CREATE ROLE ${user} LOGIN PASSWORD '${password}'`);
    sql(`CREATE DATABASE vmc OWNER ${user}`);
    return { host: "127.0.0.1", port, database: "vmc", user, password, caFile, pid, sql, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
