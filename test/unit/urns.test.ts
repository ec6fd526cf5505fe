// The URN of every resource of the anemoi stack, against the list recorded before the architecture
// pass moved files around. A URN is the resource's identity in an existing stack's state: if one
// changes (a type token, a name, a parent), `pulumi up` would replace that resource, so a move must
// keep them or add an alias that names the old one.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadClusterModel } from "../../components";
import { fakeIo } from "./fixtures/cluster-config";
import { anemoiConfig, buildCluster, type Recorded } from "./fixtures/mock-cluster";

const RECORDED = path.join(__dirname, "fixtures/anemoi-urns.txt");

/** The URN the engine gives `name`: its type qualified by the types of its parents, root first. */
function urnOf(resources: Map<string, Recorded>, rootType: string, name: string): string {
  const types: string[] = [];
  for (let r = resources.get(name); r; r = r.parent ? resources.get(r.parent) : undefined) {
    types.unshift(r.type);
    if (r.parent && !resources.has(r.parent)) types.unshift(rootType);
  }
  return `urn:pulumi:anemoi::vm-cluster::${types.join("$")}::${name}`;
}

describe("resource URNs of an existing stack", () => {
  let urns: string[];

  beforeAll(async () => {
    const { resources } = await buildCluster(loadClusterModel(anemoiConfig(), fakeIo()));
    urns = [...resources.keys()].map((name) => urnOf(resources, "vm-cluster:index:Cluster", name)).sort();
  });

  it("are the ones recorded before the layout changed", () => {
    const recorded = readFileSync(RECORDED, "utf8").trim().split("\n");
    expect(urns.length).toBeGreaterThan(40);
    expect(urns).toEqual(recorded);
  });
});
