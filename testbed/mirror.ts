// A cloud image mirror for the product to download from, as cloud.debian.org is laid out: the
// files and a SHA512SUMS beside them, served over HTTP on the loopback of a network namespace
// (the VM host's, for tests whose host lives in one). A plain static file server, like a real one.
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";

export interface Mirror {
  /** Folder URL ending in "/". */
  url: string;
  checksumsUrl: string;
  stop(): void;
}

async function waitForHttp(netns: string, url: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      execFileSync("ip", ["netns", "exec", netns, "curl", "-fsS", "-o", "/dev/null", url], { stdio: "ignore" });
      return;
    } catch {
      if (Date.now() > until) throw new Error(`mirror at ${url} in ${netns} did not answer within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Serves `dir` (writing its SHA512SUMS first) on 127.0.0.1:`port` inside `netns`. */
export async function startMirror(dir: string, netns: string, port: number): Promise<Mirror> {
  const files = readdirSync(dir)
    .filter((f) => f !== "SHA512SUMS")
    .sort();
  const sums = execFileSync("sha512sum", files, { cwd: dir, encoding: "utf8" });
  writeFileSync(path.join(dir, "SHA512SUMS"), sums);
  const child = spawn("ip", ["netns", "exec", netns, "python3", "-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", dir], {
    stdio: "ignore",
  });
  const stop = () => {
    if (child.exitCode === null) child.kill("SIGTERM");
  };
  const url = `http://127.0.0.1:${port}/`;
  try {
    await waitForHttp(netns, `${url}SHA512SUMS`, 10_000);
  } catch (err) {
    stop();
    throw err;
  }
  return { url, checksumsUrl: `${url}SHA512SUMS`, stop };
}

/** The offline test image (built once, cached by test/image/build-image.sh) on a mirror in `dir`. */
export async function startTestImageMirror(dir: string, netns: string, port: number): Promise<Mirror> {
  const image = execFileSync("bash", [path.join(__dirname, "../test/image/build-image.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
  mkdirSync(dir, { recursive: true });
  execFileSync("cp", ["--reflink=auto", image, path.join(dir, "test-image.qcow2")]);
  return startMirror(dir, netns, port);
}
