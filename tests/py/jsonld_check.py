"""Reads an article's JSON-LD on stdin, processes it with PyLD (the JSON-LD
1.1 processor in Python) and prints what it states, as plain JSON, for the
Rust test to check.

Expansion resolves every term against the context; a term the context does
not define, a malformed @id or @type, or a bad @context makes PyLD raise, so
this fails on JSON-LD a consumer could not read. The test machine has no
network: `https://schema.org` is served from here as schema.org's context
declares its vocabulary (`@vocab` http://schema.org/, `id`/`type` aliases),
without the datatype hints the full context adds (none of which this
article's properties rely on).
"""

import json
import sys

from pyld import jsonld

SCHEMA = "http://schema.org/"
SCHEMA_CONTEXT = {
    "@context": {
        "@vocab": SCHEMA,
        "id": "@id",
        "type": "@type",
        "schema": SCHEMA,
    }
}


def loader(url, options=None):
    if url.rstrip("/") in ("https://schema.org", "http://schema.org"):
        return {
            "contextUrl": None,
            "documentUrl": url,
            "document": SCHEMA_CONTEXT,
        }
    raise jsonld.JsonLdError(
        f"no network in the tests: {url}", "jsonld.LoadDocumentError", code="loading document failed"
    )


def short(iri):
    return iri[len(SCHEMA):] if isinstance(iri, str) and iri.startswith(SCHEMA) else iri


def plain(node):
    """An expanded node as {property: [values]}, schema.org names short."""
    if not isinstance(node, dict):
        return node
    if "@value" in node:
        return node["@value"]
    out = {}
    for key, values in node.items():
        if key == "@type":
            out["@type"] = [short(t) for t in values]
        elif key == "@id":
            out["@id"] = values
        else:
            out[short(key)] = [plain(v) for v in values]
    return out


def main():
    document = json.load(sys.stdin)
    options = {"documentLoader": loader}
    expanded = jsonld.expand(document, options)
    if len(expanded) != 1:
        raise SystemExit(f"expected one top-level node, got {len(expanded)}")
    # Flattening names every node and checks that ids are well formed.
    jsonld.flatten(document, None, options)
    # N-Quads: the statements an RDF consumer (a search engine) reads.
    quads = jsonld.to_rdf(document, {**options, "format": "application/n-quads"})
    print(json.dumps({"node": plain(expanded[0]), "statements": quads.count("\n")}, ensure_ascii=False))


if __name__ == "__main__":
    main()
