// The one place that knows how fast-xml-parser represents XML, so the builders and parsers read like
// the libvirt documents they handle. Values are escaped by the library, never by us.
import { XMLBuilder, XMLParser } from "fast-xml-parser";

/** An element as fast-xml-parser sees it: attributes under "@_name", text under "#text", children by tag. */
export type XmlElement = { [key: string]: unknown };

const ATTR = "@_";
const TEXT = "#text";

// Options only, not instances: the providers that use this module are serialized into state by
// Pulumi, which re-requires a library's classes but would try to copy a live instance by value.
const BUILDER_OPTIONS = {
  ignoreAttributes: false,
  attributeNamePrefix: ATTR,
  textNodeName: TEXT,
  format: true,
  indentBy: "  ",
  suppressEmptyNode: true,
};

const PARSER_OPTIONS = {
  ignoreAttributes: false,
  attributeNamePrefix: ATTR,
  textNodeName: TEXT,
  // Keep every value a string, exactly as written: libvirt names and paths are not numbers.
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  // For numeric references (&#10;), which libxml2 writes; the HTML entity names it also enables never
  // occur in libvirt's output.
  htmlEntities: true,
};

/** Attributes of an element to build, named without the "@_" prefix; undefined ones are left out. */
export function attrs(values: Record<string, string | number | undefined>): XmlElement {
  const element: XmlElement = {};
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined) element[ATTR + name] = String(value);
  }
  return element;
}

/** An element with attributes and text, such as `<memory unit='MiB'>2048</memory>`. */
export function textWithAttrs(text: string | number, values: Record<string, string | number | undefined>): XmlElement {
  return { ...attrs(values), [TEXT]: String(text) };
}

export function buildDocument(root: string, element: XmlElement): string {
  return new XMLBuilder(BUILDER_OPTIONS).build({ [root]: element }) as string;
}

/** Parses a whole document and returns its root element; malformed XML and a wrong root are errors. */
export function parseDocument(xml: string, root: string): XmlElement {
  const document = parseXml(xml);
  const element = document[root];
  if (element === undefined || Array.isArray(element)) {
    throw new Error(`expected a libvirt <${root}> document, found <${rootName(document) ?? "nothing"}>`);
  }
  return asElement(element);
}

/** Parses a whole document whatever its root, for readers such as the owner marker that fit several. */
export function parseAnyDocument(xml: string): XmlElement {
  const document = parseXml(xml);
  const name = rootName(document);
  if (name === undefined) throw new Error("empty XML document");
  return asElement(document[name]);
}

function parseXml(xml: string): XmlElement {
  try {
    return new XMLParser(PARSER_OPTIONS).parse(xml, true) as XmlElement;
  } catch (error) {
    throw new Error(`not well-formed XML: ${(error as Error).message}`, { cause: error });
  }
}

// The XML declaration (key "?xml") is not the root element.
function rootName(document: XmlElement): string | undefined {
  return Object.keys(document).find((key) => !key.startsWith("?"));
}

// The parser gives a text-only or empty element as a plain string; make every element an object.
function asElement(value: unknown): XmlElement {
  if (typeof value === "string") return { [TEXT]: value };
  return value as XmlElement;
}

export function children(parent: XmlElement, tag: string): XmlElement[] {
  const value = parent[tag];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(asElement);
}

export function child(parent: XmlElement, tag: string): XmlElement | undefined {
  return children(parent, tag)[0];
}

export function requiredChild(parent: XmlElement, tag: string, where: string): XmlElement {
  const element = child(parent, tag);
  if (element === undefined) throw new Error(`${where}: <${tag}> is missing`);
  return element;
}

/** Names of the child elements, with any namespace prefix. */
export function childTags(parent: XmlElement): string[] {
  return Object.keys(parent).filter((key) => !key.startsWith(ATTR) && key !== TEXT);
}

export function attr(element: XmlElement | undefined, name: string): string | undefined {
  const value = element?.[ATTR + name];
  return typeof value === "string" ? value : undefined;
}

export function requiredAttr(element: XmlElement, name: string, where: string): string {
  const value = attr(element, name);
  if (value === undefined) throw new Error(`${where}: attribute ${name} is missing`);
  return value;
}

export function text(element: XmlElement | undefined): string | undefined {
  const value = element?.[TEXT];
  return typeof value === "string" ? value : undefined;
}

export function requiredText(parent: XmlElement, tag: string, where: string): string {
  const value = text(requiredChild(parent, tag, where));
  if (value === undefined) throw new Error(`${where}: <${tag}> is empty`);
  return value;
}

export function parseCount(value: string, where: string): number {
  if (!/^\d+$/.test(value)) throw new Error(`${where}: '${value}' is not a non-negative integer`);
  return Number(value);
}

// libvirt's scaled integers (virScaleInteger): b/byte/bytes, then k, M, G, T, P, E with an optional
// "iB" (powers of 1024) or "B" (powers of 1000), case-insensitive.
const UNIT_POWERS: Record<string, number> = { k: 1, m: 2, g: 3, t: 4, p: 5, e: 6 };

/** The value of a libvirt scaled integer in bytes; `defaultUnit` applies when there is no unit attribute. */
export function scaledBytes(element: XmlElement, defaultUnit: string, where: string): number {
  const value = text(element);
  if (value === undefined) throw new Error(`${where}: value is missing`);
  const unit = attr(element, "unit") ?? defaultUnit;
  return parseCount(value.trim(), where) * unitBytes(unit, where);
}

function unitBytes(unit: string, where: string): number {
  const lower = unit.toLowerCase();
  if (lower === "b" || lower === "byte" || lower === "bytes") return 1;
  const power = UNIT_POWERS[lower.charAt(0)];
  const suffix = lower.slice(1);
  const base = suffix === "" || suffix === "ib" ? 1024 : suffix === "b" ? 1000 : undefined;
  if (power === undefined || base === undefined) throw new Error(`${where}: unknown unit '${unit}'`);
  return base ** power;
}
