// A throwaway CA certificate made by the real tool, as users bring theirs (its key is not kept).
import { execFileSync } from "node:child_process";

export function throwawayCa(commonName: string): string {
  const args = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-noenc", "-keyout", "/dev/null", "-subj", `/CN=${commonName}`];
  return execFileSync("openssl", [...args, "-days", "2"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
}
