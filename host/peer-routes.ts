// Routes to the other hosts' parts of the cluster network, through their LAN addresses: with
// `hosts`, VMs on different hosts reach each other by their own addresses. Each route is set with
// `ip route replace` (an up never doubles one), refresh reports one deleted by hand, the next up
// sets it again, and destroy deletes only a route that still goes where ours went.
import { isDeepStrictEqual } from "node:util";
import * as pulumi from "../provider/pulumi";
import { deleteFirst } from "../provider/delete-first";
import { withClearErrors } from "../provider/clear-errors";
import { UNKNOWN } from "../provider/unknown";
import { INTERFACE_NAME } from "../model/identifiers";
import { parseCidr, parseIpv4 } from "../model/ipv4";
import { connect, type ConnectionSpec, type HostConnection } from "../transport/connection";
import { hostDiff, hostIdentity } from "./host-diff";
import { DynamicResource } from "../provider/dynamic-resource";

export interface PeerRoute {
  /** Another host's cluster subnet. */
  cidr: string;
  /** That host's LAN address. */
  via: string;
}

export interface PeerRoutesInputs {
  connection: ConnectionSpec;
  cluster: string;
  lanInterface: string;
  routes: PeerRoute[];
}

export interface PeerRoutesState extends PeerRoutesInputs {
  /** The routes present on the host, as `describeRoute` writes them. */
  present: string[];
}

export function describeRoute(route: PeerRoute, lanInterface: string): string {
  return `${route.cidr} via ${route.via} dev ${lanInterface}`;
}

export function peerRouteProblems(inputs: PeerRoutesInputs): { property: string; reason: string }[] {
  const problems: { property: string; reason: string }[] = [];
  if (!INTERFACE_NAME.test(inputs.lanInterface))
    problems.push({ property: "lanInterface", reason: `"${inputs.lanInterface}" is not a network interface name` });
  for (const route of inputs.routes) {
    if (!parseCidr(route.cidr) || parseIpv4(route.via) === undefined)
      problems.push({ property: "routes", reason: `${JSON.stringify(route)} is not { cidr: IPv4 CIDR, via: IPv4 address }` });
  }
  return problems;
}

/** Whether the host's route to `route.cidr` is ours: that exact prefix, through that address and interface. */
async function present(conn: HostConnection, route: PeerRoute, lanInterface: string): Promise<boolean> {
  const out = (await conn.run(["ip", "-4", "-o", "route", "show", "exact", route.cidr])).stdout;
  return out.split("\n").some((line) => {
    const words = line.trim().split(/\s+/);
    const at = (word: string) => words[words.indexOf(word) + 1];
    return words[0] === route.cidr && words.includes("via") && at("via") === route.via && at("dev") === lanInterface;
  });
}

async function inspect(conn: HostConnection, inputs: PeerRoutesInputs): Promise<PeerRoutesState> {
  const found: string[] = [];
  for (const route of inputs.routes) if (await present(conn, route, inputs.lanInterface)) found.push(describeRoute(route, inputs.lanInterface));
  return { ...inputs, present: found };
}

async function ensure(conn: HostConnection, inputs: PeerRoutesInputs): Promise<PeerRoutesState> {
  for (const route of inputs.routes) await conn.run(["ip", "route", "replace", route.cidr, "via", route.via, "dev", inputs.lanInterface]);
  return { ...inputs, present: inputs.routes.map((route) => describeRoute(route, inputs.lanInterface)) };
}

async function remove(conn: HostConnection, routes: readonly PeerRoute[], lanInterface: string): Promise<void> {
  for (const route of routes) {
    if (await present(conn, route, lanInterface)) await conn.run(["ip", "route", "del", route.cidr, "via", route.via, "dev", lanInterface]);
  }
}

export const peerRoutesProvider: pulumi.dynamic.ResourceProvider<PeerRoutesInputs, PeerRoutesState> = withClearErrors<PeerRoutesInputs, PeerRoutesState>(
  "routes to the other hosts",
  {
    async check(_olds, news) {
      const known = !JSON.stringify(news).includes(UNKNOWN);
      return { inputs: news, failures: known ? peerRouteProblems(news) : [] };
    },

    async create(inputs) {
      return { id: `routes@${hostIdentity(inputs.connection)}/${inputs.cluster}`, outs: await ensure(connect(inputs.connection), inputs) };
    },

    async read(id, props) {
      if (!props) return {};
      return { id, props: await inspect(connect(props.connection), props) };
    },

    async diff(_id, olds, news) {
      const wanted = news.routes.map((route) => describeRoute(route, news.lanInterface));
      return hostDiff(olds, news, ["cluster"], !isDeepStrictEqual(wanted, olds.present));
    },

    // Routes the new inputs no longer have go first.
    async update(_id, olds, news) {
      const conn = connect(news.connection);
      const wanted = new Set(news.routes.map((route) => describeRoute(route, news.lanInterface)));
      await remove(
        conn,
        olds.routes.filter((route) => !wanted.has(describeRoute(route, olds.lanInterface))),
        olds.lanInterface,
      );
      return { outs: await ensure(conn, news) };
    },

    async delete(_id, props) {
      await remove(connect(props.connection), props.routes, props.lanInterface);
    },
  },
);

export interface PeerRoutesArgs {
  connection: pulumi.Input<ConnectionSpec>;
  cluster: string;
  lanInterface: string;
  routes: PeerRoute[];
}

/** This host's routes to the other hosts' VMs, over the LAN. */
export class PeerRoutes extends DynamicResource {
  declare readonly present: pulumi.Output<string[]>;

  constructor(name: string, args: PeerRoutesArgs, opts?: pulumi.CustomResourceOptions) {
    super(peerRoutesProvider, name, { ...args, present: undefined }, deleteFirst(opts), "vm-cluster", "PeerRoutes");
  }
}
