// Small questions tests ask of this machine: is a process still there, does a namespace exist.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

export function alive(pid: number): boolean {
  try {
    // A zombie (exited, not yet reaped by its new parent) counts as gone.
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

export function netnsExists(name: string): boolean {
  return execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
    .split("\n")
    .some((line) => line.split(" ")[0] === name);
}
