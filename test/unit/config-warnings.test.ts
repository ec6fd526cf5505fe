// Warnings on a valid config: a private key kept in plain text in the stack file (issue 19).
import { describe, expect, it } from "vitest";
import { configWarnings } from "../../components";
import { PRIVATE_KEY_TEXT } from "./fixtures/cluster-config";

const host = (privateKey: string) => ({
  "vm-cluster:host": JSON.stringify({ type: "ssh", host: "vmhost.example", user: "root", privateKey, hostKey: "SHA256:x" }),
});

describe("configWarnings", () => {
  it("warns of a key written as text that was not set with --secret, with the command that encrypts it", () => {
    const warnings = configWarnings(host(PRIVATE_KEY_TEXT), [], "anemoi");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^vm-cluster:host\.privateKey holds the key itself in plain text in Pulumi\.anemoi\.yaml/);
    expect(warnings[0]).toContain(`pulumi config set --secret --path 'vm-cluster:host.privateKey' -- "$(cat ~/.ssh/<key>)"`);
    expect(warnings[0]).not.toContain("BEGIN");
  });

  it("says nothing of a key that is a secret, of a key given by its path, or of a local host", () => {
    expect(configWarnings(host(PRIVATE_KEY_TEXT), ["vm-cluster:host"], "anemoi")).toEqual([]);
    expect(configWarnings(host("~/.ssh/id_ed25519"), [], "anemoi")).toEqual([]);
    expect(configWarnings({ "vm-cluster:host": '{"type":"local"}' }, [], "anemoi")).toEqual([]);
    expect(configWarnings({}, [], "anemoi")).toEqual([]);
  });

  it("warns of each entry of hosts whose key is text, naming that entry's key", () => {
    const hosts = (privateKey: string) => ({
      "vm-cluster:hosts": JSON.stringify({ nuc1: { type: "local" }, nuc2: { type: "ssh", host: "nuc2", user: "root", privateKey, hostKey: "SHA256:x" } }),
    });
    const warnings = configWarnings(hosts(PRIVATE_KEY_TEXT), [], "anemoi");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`pulumi config set --secret --path 'vm-cluster:hosts.nuc2.privateKey'`);
    expect(configWarnings(hosts(PRIVATE_KEY_TEXT), ["vm-cluster:hosts"], "anemoi")).toEqual([]);
    expect(configWarnings(hosts("~/.ssh/id_ed25519"), [], "anemoi")).toEqual([]);
  });
});
