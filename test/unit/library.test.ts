// The library's Cluster (library/index.ts), under Pulumi mocks: typed args give the same resources
// as the stack config, and bad args fail at construction, every problem named by its key in args.
import { describe, expect, it } from "vitest";
import { Cluster, type ClusterArgs } from "../../library";
import { CA_PEM, ED25519_PUBLIC_KEY } from "./fixtures/cluster-config";
import "./fixtures/mock-cluster";

const args: ClusterArgs = {
  cluster: "lab",
  lan: { interface: "eno1", subnet: "172.17.1.0/24" },
  network: { cidr: "172.17.9.0/24", gateway: "172.17.9.1", dhcpStart: "172.17.9.2", dhcpEnd: "172.17.9.254" },
  vms: [{ name: "boreas", ip: "172.17.9.2", memoryMiB: 512 }],
  sshPublicKey: { key: ED25519_PUBLIC_KEY },
  caCertificate: { pem: CA_PEM },
  domainType: "qemu",
};

const resolveOutput = <T>(output: { apply(f: (v: T) => void): unknown }) => new Promise<T>((done) => output.apply(done));

describe("library Cluster", () => {
  it("builds the cluster from typed args, defaults applied as for the stack config", async () => {
    const cluster = new Cluster("lab", args);
    const outputs = await resolveOutput(cluster.outputs);
    expect(Object.keys(outputs.vms)).toEqual(["boreas"]);
    expect(outputs.vms.boreas!.ip).toBe("172.17.9.2");
    expect(outputs.vms.boreas!.domain).toBe("lab-boreas");
    expect(outputs.inventory).toMatch(/boreas ansible_host=172\.17\.9\.2/);
  });

  it("refuses bad args before any resource, naming each problem by its key in args", () => {
    const bad = {
      ...args,
      network: { ...args.network, cidr: "172.17.9.0/33" },
      vms: [{ name: "Boreas_1", ip: "172.17.9.2" }],
      domainType: "xen",
    } as unknown as ClusterArgs;
    let message = "";
    try {
      new Cluster("lab", bad);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/the ClusterArgs of "lab" has \d+ problem\(s\); nothing was changed/);
    expect(message).toContain("args.network.cidr:");
    expect(message).toContain("args.vms[0].name:");
    expect(message).toContain("args.domainType:");
    expect(message).not.toContain("vm-cluster:");
    expect(message).not.toContain("undefined");
  });

  it("says a missing key is required, without pointing at a stack file", () => {
    const { lan: _lan, ...withoutLan } = args;
    expect(() => new Cluster("lab", withoutLan as ClusterArgs)).toThrow(/args\.lan: is required(?!;)/);
  });
});
