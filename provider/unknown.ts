// What a dynamic provider's check and diff get during preview for an input that is the output of a
// resource still to be made or changed (the engine's "unknown"): its new value is not known yet.
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export const isUnknown = (value: unknown): boolean => value === UNKNOWN;
