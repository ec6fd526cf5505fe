// What the host settings (packages, the libvirt daemon, ip_forward, libvirt's firewall backend) share:
// a provider made of inspect (what the host has), apply (make it what a cluster needs), restore (undo
// this stack's part on destroy) and drift (a refresh found it undone: the next up applies it again).
import * as pulumi from "../provider/pulumi";
import { withClearErrors } from "../provider/clear-errors";
import { connect, type ConnectionSpec, type HostConnection } from "../transport/connection";
import { hostDiff, hostIdentity } from "./host-diff";

export interface HostSetting<I extends { connection: ConnectionSpec }, S extends I> {
  /** Names the setting in errors: "IPv4 forwarding". */
  what: string;
  /** The resource id is `<idPrefix>@<host>`, and `/<user>` after it for a setting each stack registers for. */
  idPrefix: string;
  /** The stack's marker name among the setting's users, for the id; none for a setting nobody registers for. */
  user?: (inputs: I) => string;
  /** Inputs that name another thing on the host (a path, a marker): a change replaces. */
  replaceKeys: readonly (keyof I & string)[];
  /** The host's state now, for a refresh; `props` is the recorded state. */
  inspect(conn: HostConnection, props: S): Promise<S>;
  /** Makes the host have the setting; `olds` is the recorded state on an update. */
  apply(conn: HostConnection, inputs: I, olds?: S): Promise<S>;
  /** Undoes this stack's part on destroy; left out for a setting that stays (packages, daemons). */
  restore?(conn: HostConnection, props: S): Promise<void>;
  /** Whether the recorded state is not what `apply` makes (a refresh found it undone). */
  drift(olds: S): boolean;
}

export function hostSettingProvider<I extends { connection: ConnectionSpec }, S extends I>(setting: HostSetting<I, S>): pulumi.dynamic.ResourceProvider<I, S> {
  const id = (inputs: I) => `${setting.idPrefix}@${hostIdentity(inputs.connection)}${setting.user ? `/${setting.user(inputs)}` : ""}`;
  return withClearErrors<I, S>(setting.what, {
    async create(inputs) {
      return { id: id(inputs), outs: await setting.apply(connect(inputs.connection), inputs) };
    },

    async read(id, props) {
      if (!props) return {};
      return { id, props: await setting.inspect(connect(props.connection), props) };
    },

    async diff(_id, olds, news) {
      return hostDiff(olds, news, setting.replaceKeys, setting.drift(olds));
    },

    async update(_id, olds, news) {
      return { outs: await setting.apply(connect(news.connection), news, olds) };
    },

    async delete(_id, props) {
      if (setting.restore) await setting.restore(connect(props.connection), props);
    },
  });
}

/** A host setting's resource props: its inputs, and each output the provider fills in as undefined so the engine tracks it. */
export function settingProps<I extends object>(inputs: I, outputs: readonly string[]): I & Record<string, undefined> {
  return { ...inputs, ...Object.fromEntries(outputs.map((name) => [name, undefined])) };
}
