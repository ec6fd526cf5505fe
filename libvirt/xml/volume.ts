// Storage volumes: a VM's disk (a qcow2 overlay on the shared base image) and its cloud-init seed.
import { attrs, buildDocument, child, parseDocument, requiredAttr, requiredChild, requiredText, scaledBytes, textWithAttrs, type XmlElement } from "./codec";

/**
 * `<format type>` of a file volume. libvirt probes file content on every pool refresh (one follows
 * each vol-upload): an ISO 9660 image uploaded into a `raw` volume reads back as `iso`. Create the
 * seed volume as `iso` (libvirt makes it a raw file) so that it reads back as it was written.
 */
export type VolumeFormat = "qcow2" | "raw" | "iso";
const FORMATS: readonly VolumeFormat[] = ["qcow2", "raw", "iso"];

/** `<volume type='file'>`. libvirt adds key, allocation, physical, target path, permissions, timestamps. */
export interface Volume {
  name: string;
  /** Bytes; for qcow2 the virtual disk size, which only grows (vol-resize). */
  capacity: number;
  target: { format: { type: VolumeFormat } };
  /** The image an overlay reads through to; a path, because a base outside any pool has no volume name. */
  backingStore?: { path: string; format: { type: VolumeFormat } };
  /** Bytes to allocate up front; 0 makes a raw file sparse (libvirt allocates all of it otherwise). Written, not read back. */
  allocation?: number;
}

export function buildVolumeXml(volume: Volume): string {
  if (!Number.isSafeInteger(volume.capacity) || volume.capacity < 0) {
    throw new Error(`volume ${volume.name}: capacity ${volume.capacity} is not a whole number of bytes`);
  }
  const format = volume.target.format.type;
  const element: XmlElement = {
    ...attrs({ type: "file" }),
    name: volume.name,
    capacity: textWithAttrs(volume.capacity, { unit: "bytes" }),
    ...(volume.allocation !== undefined && { allocation: textWithAttrs(volume.allocation, { unit: "bytes" }) }),
    // qcow2 v3 (compat 1.1): what qemu-img makes today; the older v2 lacks zero clusters and lazy refcounts.
    target: { format: attrs({ type: format }), ...(format === "qcow2" ? { compat: "1.1" } : {}) },
  };
  if (volume.backingStore !== undefined) {
    element.backingStore = { path: volume.backingStore.path, format: attrs({ type: volume.backingStore.format.type }) };
  }
  return buildDocument("volume", element);
}

export function parseVolumeXml(xml: string): Volume {
  const root = parseDocument(xml, "volume");
  const name = requiredText(root, "name", "volume");
  const where = `volume ${name}`;
  const volume: Volume = {
    name,
    capacity: scaledBytes(requiredChild(root, "capacity", where), "bytes", where),
    target: { format: { type: formatOf(requiredChild(root, "target", where), where) } },
  };
  const backingStore = child(root, "backingStore");
  // An empty <backingStore/> marks the end of a chain, as in domain XML: no backing.
  if (backingStore !== undefined && child(backingStore, "path") !== undefined) {
    volume.backingStore = { path: requiredText(backingStore, "path", where), format: { type: formatOf(backingStore, where) } };
  }
  return volume;
}

function formatOf(parent: XmlElement, where: string): VolumeFormat {
  const type = requiredAttr(requiredChild(parent, "format", where), "type", `${where} <format>`);
  const format = FORMATS.find((known) => known === type);
  if (format === undefined) throw new Error(`${where}: format '${type}' is not one of ${FORMATS.join(", ")}`);
  return format;
}
