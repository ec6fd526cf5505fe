// A dynamic resource's args: each of its provider's inputs, as a value or an Output of one.
import type * as pulumi from "./pulumi";

export type InputsOf<T> = { [K in keyof T]: pulumi.Input<T[K]> };
