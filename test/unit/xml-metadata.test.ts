import { describe, expect, it } from "vitest";
import { buildNetworkXml, OWNER_NAMESPACE, parseOwner } from "../../libvirt/xml";
import { fixture, network, owner } from "./xml-samples";

// The same network with its <metadata> content replaced.
function withMetadata(content: string): string {
  return fixture("network-defined.xml").replace(/<metadata>[\s\S]*<\/metadata>/, `<metadata>${content}</metadata>`);
}

describe("ownership marker", () => {
  it("is found in domain and network dumpxml", () => {
    expect(parseOwner(fixture("domain-running.xml"))).toStrictEqual(owner);
    expect(parseOwner(fixture("network-running.xml"))).toStrictEqual(owner);
  });

  it("is written in our namespace, which is what makes it ours", () => {
    expect(buildNetworkXml(network)).toContain(`<vmc:owner xmlns:vmc="${OWNER_NAMESPACE}" project="vm-cluster" stack="anemoi" cluster="anemoi"/>`);
  });

  it("is absent from an object without metadata", () => {
    const { metadata: _metadata, ...unmarked } = network;
    expect(parseOwner(buildNetworkXml(unmarked))).toBeUndefined();
  });

  // `virsh metadata --key k --uri ...` writes the element under the key as prefix.
  it("is recognised by its namespace under any prefix, or as the default namespace", () => {
    expect(parseOwner(withMetadata(`<k:owner xmlns:k="${OWNER_NAMESPACE}" project="vm-cluster" stack="anemoi" cluster="anemoi"/>`))).toStrictEqual(owner);
    expect(parseOwner(withMetadata(`<owner xmlns="${OWNER_NAMESPACE}" project="vm-cluster" stack="anemoi" cluster="anemoi"/>`))).toStrictEqual(owner);
  });

  it("sits among other applications' metadata", () => {
    const libosinfo =
      '<libosinfo:libosinfo xmlns:libosinfo="http://libosinfo.org/xmlns/libvirt/domain/1.0"><libosinfo:os id="http://debian.org/debian/12"/></libosinfo:libosinfo>';
    const ours = `<vmc:owner xmlns:vmc="${OWNER_NAMESPACE}" project="vm-cluster" stack="anemoi" cluster="anemoi"/>`;
    expect(parseOwner(withMetadata(libosinfo + ours))).toStrictEqual(owner);
  });

  // Ownership must be proven: a look-alike in another namespace, or a marker missing a field, proves nothing.
  it("is not taken from a look-alike or an incomplete marker", () => {
    expect(parseOwner(withMetadata('<vmc:owner xmlns:vmc="https://example.org/other" project="vm-cluster" stack="anemoi" cluster="anemoi"/>'))).toBeUndefined();
    expect(parseOwner(withMetadata(`<vmc:owner xmlns:vmc="${OWNER_NAMESPACE}" project="vm-cluster" stack="anemoi"/>`))).toBeUndefined();
  });
});
