// A root password for the serial console (`virsh console`), drawn once by the program and kept in
// state only as a secret; the guests get just its SHA-512 crypt hash. SSH password login stays off.
// Ours, not @pulumi/random's: that plugin cannot be had here.
import { randomInt, randomUUID } from "node:crypto";
import * as pulumi from "../provider/pulumi";
import { CRYPT_ALPHABET, sha512Crypt } from "./sha512-crypt";
import { withClearErrors } from "../provider/clear-errors";
import { DynamicResource } from "../provider/dynamic-resource";

/** Typed at a console: no 0/O, 1/l/I look-alikes. 20 of these 57 characters carry over 116 bits. */
export const PASSWORD_ALPHABET = "23456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";
export const PASSWORD_LENGTH = 20;
const SALT_LENGTH = 16;

export interface ConsolePasswordInputs {
  /** Change this value to get a new password. */
  rotation: string;
}

export interface ConsolePasswordState extends ConsolePasswordInputs {
  password: string;
  /** `$6$<salt>$…`, for cloud-init's hashed_passwd. */
  hash: string;
}

const draw = (alphabet: string, length: number): string => Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join("");

export const consolePasswordProvider: pulumi.dynamic.ResourceProvider<ConsolePasswordInputs, ConsolePasswordState> = withClearErrors<
  ConsolePasswordInputs,
  ConsolePasswordState
>("console password", {
  async create(inputs) {
    const password = draw(PASSWORD_ALPHABET, PASSWORD_LENGTH);
    const hash = sha512Crypt(password, `$6$${draw(CRYPT_ALPHABET, SALT_LENGTH)}`);
    // The id is shown in plain text, so it says nothing about the password.
    return { id: randomUUID(), outs: { ...inputs, password, hash } };
  },
  async diff(_id, olds, news) {
    const replace = olds.rotation !== news.rotation;
    return { changes: replace, replaces: replace ? ["rotation"] : [] };
  },
});

export interface ConsolePasswordArgs {
  rotation?: pulumi.Input<string>;
}

export class ConsolePassword extends DynamicResource {
  declare readonly password: pulumi.Output<string>;
  declare readonly hash: pulumi.Output<string>;

  constructor(name: string, args: ConsolePasswordArgs = {}, opts?: pulumi.CustomResourceOptions) {
    super(
      consolePasswordProvider,
      name,
      { rotation: args.rotation ?? "", password: undefined, hash: undefined },
      { ...opts, additionalSecretOutputs: ["password", "hash"] },
      "vm-cluster",
      "ConsolePassword",
    );
  }
}
