// An ed25519 key pair made once by the program (not by the guest) and kept in state: the private
// half only as a secret. Used for each VM's host key, so known_hosts can be written before boot and
// users keep strict host key checking, and for the stack's provisioner key that readiness uses.
import * as pulumi from "../provider/pulumi";
import { generateHostKey } from "./host-key";
import { withClearErrors } from "../provider/clear-errors";
import { DynamicResource } from "../provider/dynamic-resource";

export interface SshKeyPairInputs {
  /** After the public key, e.g. "root@boreas". Changing it changes nothing: keys are replaced only when asked. */
  comment: string;
  /** Change this value to get a new key pair. */
  rotation: string;
}

export interface SshKeyPairState extends SshKeyPairInputs {
  publicKey: string;
  privateKey: string;
}

export const sshKeyPairProvider: pulumi.dynamic.ResourceProvider<SshKeyPairInputs, SshKeyPairState> = withClearErrors<SshKeyPairInputs, SshKeyPairState>(
  "SSH key pair",
  {
    async create(inputs) {
      const pair = generateHostKey(inputs.comment);
      return { id: pair.publicKey.split(" ")[1], outs: { ...inputs, ...pair } };
    },
    async diff(_id, olds, news) {
      const replace = olds.rotation !== news.rotation;
      return { changes: replace, replaces: replace ? ["rotation"] : [] };
    },
  },
);

export interface SshKeyPairArgs {
  comment: pulumi.Input<string>;
  rotation?: pulumi.Input<string>;
}

export class SshKeyPair extends DynamicResource {
  declare readonly publicKey: pulumi.Output<string>;
  declare readonly privateKey: pulumi.Output<string>;

  constructor(name: string, args: SshKeyPairArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      sshKeyPairProvider,
      name,
      { comment: args.comment, rotation: args.rotation ?? "", publicKey: undefined, privateKey: undefined },
      { ...opts, additionalSecretOutputs: ["privateKey"] },
      "vm-cluster",
      "SshKeyPair",
    );
  }
}
