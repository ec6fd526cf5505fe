// The ownership marker: libvirt keeps foreign namespaced elements under <metadata> of domains and
// (since 9.0's schema allows it) networks, so a provider can prove an object is ours before it adopts
// or deletes it, and a user can find the orphans of a lost stack.
import { createHash } from "node:crypto";
import { attr, attrs, child, childTags, children, parseAnyDocument, type XmlElement } from "./codec";

export const OWNER_NAMESPACE = "https://vm-cluster.dev/xmlns/owner/1";
const OWNER_PREFIX = "vmc";
const OWNER_TAG = "owner";

/** `<vmc:owner project='…' stack='…' cluster='…'/>`: which Pulumi stack created the object. */
export interface Owner {
  project: string;
  stack: string;
  cluster: string;
}

/** Whether a marker found on an object names exactly this stack (project, stack and cluster). */
export function sameOwner(found: Owner | undefined, ours: Owner): boolean {
  return found !== undefined && found.project === ours.project && found.stack === ours.stack && found.cluster === ours.cluster;
}

/**
 * The UUID of an object that has no `<metadata>` (a storage pool), derived from its owner and name:
 * libvirt keeps the UUID it was defined with, and one made by hand (random) never equals it, so a
 * pool with this UUID is provably the one this stack defined. Laid out as a name-based UUID
 * (version 5 and variant bits set), from SHA-256. `note` makes a second, distinct UUID that also
 * records one fact about the object (a pool over a directory that was there before).
 */
export function ownerUuid(owner: Owner, name: string, note?: string): string {
  const parts = [OWNER_NAMESPACE, owner.project, owner.stack, owner.cluster, name, ...(note === undefined ? [] : [note])];
  const digest = createHash("sha256").update(JSON.stringify(parts)).digest();
  digest[6] = (digest[6]! & 0x0f) | 0x50;
  digest[8] = (digest[8]! & 0x3f) | 0x80;
  const hex = digest.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** libvirt `<metadata>`: only our marker is read; other applications' elements are left alone. */
export interface Metadata {
  owner: Owner;
}

export function buildMetadataElement(metadata: Metadata): XmlElement {
  const { project, stack, cluster } = metadata.owner;
  return {
    [`${OWNER_PREFIX}:${OWNER_TAG}`]: attrs({ [`xmlns:${OWNER_PREFIX}`]: OWNER_NAMESPACE, project, stack, cluster }),
  };
}

/** Our `<metadata>` content of a parsed domain or network element, or undefined when it carries no marker. */
export function parseMetadataElement(root: XmlElement): Metadata | undefined {
  const metadata = child(root, "metadata");
  if (metadata === undefined) return undefined;
  // Match by namespace, not by prefix: `virsh metadata --key` may have written it under another one.
  for (const tag of childTags(metadata)) {
    const [prefix, local] = tag.includes(":") ? tag.split(":", 2) : [undefined, tag];
    if (local !== OWNER_TAG) continue;
    for (const element of children(metadata, tag)) {
      if (namespaceOf(prefix, [element, metadata, root]) !== OWNER_NAMESPACE) continue;
      const owner = ownerOf(element);
      if (owner !== undefined) return { owner };
    }
  }
  return undefined;
}

/** The owner marked in a domain or network XML document, or undefined when it is not marked as ours. */
export function parseOwner(xml: string): Owner | undefined {
  return parseMetadataElement(parseAnyDocument(xml))?.owner;
}

// The nearest declaration wins, from the element outwards.
function namespaceOf(prefix: string | undefined, scopes: XmlElement[]): string | undefined {
  const declaration = prefix === undefined ? "xmlns" : `xmlns:${prefix}`;
  for (const scope of scopes) {
    const uri = attr(scope, declaration);
    if (uri !== undefined) return uri;
  }
  return undefined;
}

// A marker missing an attribute proves nothing: treat it as no marker rather than guess.
function ownerOf(element: XmlElement): Owner | undefined {
  const project = attr(element, "project");
  const stack = attr(element, "stack");
  const cluster = attr(element, "cluster");
  if (project === undefined || stack === undefined || cluster === undefined) return undefined;
  return { project, stack, cluster };
}
