"""Every REST answer must be what /v1/openapi.json says.

Run by tests/openapi_check.sh against a server on a seeded database. The
document is validated as OpenAPI 3.1 (openapi-spec-validator); then every
documented route is called with valid and invalid input, and each answer is
validated with openapi-core: its status must be documented, its headers and
body must fit, and a JSON body may hold no field the schema does not name.
Valid requests are validated too. Every documented route must be called.
"""

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree

from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_spec_validator import validate
from werkzeug.datastructures import Headers

BASE = sys.argv[1]
SAMPLE = os.environ["NEWSDESK_CHECK_SAMPLE"]
LEGAL = os.environ["NEWSDESK_CHECK_LEGAL"]
PARTNER = os.environ["NEWSDESK_CHECK_PARTNER"]

failures = []
called = set()


def fetch(path, query=None, headers=None, method="GET", body=None):
    url = BASE + path + ("?" + urllib.parse.urlencode(query) if query else "")
    request = urllib.request.Request(url, method=method, headers=headers or {}, data=body)
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            # An event stream does not end: its first events will do.
            if r.headers.get("Content-Type", "").startswith("text/event-stream"):
                return r.status, Headers(list(r.headers.items())), r.read1(4096)
            return r.status, Headers(list(r.headers.items())), r.read()
    except urllib.error.HTTPError as e:
        return e.code, Headers(list(e.headers.items())), e.read()


status, _, raw = fetch("/v1/openapi.json")
assert status == 200, status
DOC = json.loads(raw)
validate(DOC)
# openapi-spec-validator lets a path parameter stand outside its path.
for route, item in DOC["paths"].items():
    for p in [q for op in item.values() if isinstance(op, dict) for q in op.get("parameters", [])]:
        if p["in"] == "path" and "{%s}" % p["name"] not in route:
            failures.append(f"{route}: path parameter {p['name']} is not in the path")
def well_formed_xml(raw):
    """A sitemap as the string the document says it is, once it parses."""
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    xml.etree.ElementTree.fromstring(text)
    return text


SPEC = OpenAPI.from_dict(DOC, config=Config(
    extra_media_type_deserializers={"application/feed+json": json.loads,
                                    "application/xml": well_formed_xml}))


def resolve(schema):
    while "$ref" in schema:
        schema = DOC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def undocumented(schema, value, where):
    """Fields of `value` that `schema` does not name."""
    schema = resolve(schema)
    found = []
    alternatives = schema.get("oneOf", []) + schema.get("anyOf", [])
    if alternatives:
        # Option<T> (null or T) and tagged unions (one object per variant):
        # the value needs to fit one alternative, the one naming the most.
        tried = [undocumented(alt, value, where) for alt in alternatives
                 if resolve(alt).get("type") in ("object", "array") or "$ref" in alt]
        return min(tried, key=len) if tried else found
    if isinstance(value, dict):
        names, free = set(), False
        parts = [schema] + [resolve(s) for s in schema.get("allOf", [])]
        for part in parts:
            names |= set(part.get("properties", {}))
            free |= part.get("type") == "object" and "properties" not in part and "allOf" not in part
        if not free:
            found += [f"{where}.{k}" for k in value if k not in names]
        for part in parts:
            for k, sub in part.get("properties", {}).items():
                if k in value:
                    found += undocumented(sub, value[k], f"{where}.{k}")
    elif isinstance(value, list):
        items = schema.get("items")
        if items:
            for i, v in enumerate(value):
                found += undocumented(items, v, f"{where}[{i}]")
    return found


def check(route, path, query=None, headers=None, expect=None, valid=True):
    """Calls `path`, validates the answer against `route`; returns (status, headers, body)."""
    status, answer_headers, raw = fetch(path, query, headers)
    label = f"GET {path}{'?' + urllib.parse.urlencode(query) if query else ''} -> {status}"
    called.add(route)
    if expect is not None and status != expect:
        failures.append(f"{label}: expected {expect}")
    content_type = answer_headers.get("Content-Type", "").split(";")[0].strip()
    request = MockRequest(BASE, "get", path, args=query or {}, headers=headers or {})
    # openapi-core parses JSON and XML bodies itself, from bytes.
    json_body = content_type.endswith("json") or content_type == "application/xml"
    # openapi-core checks a picture against `type: string`: hand it one.
    text = raw.decode("latin-1") if content_type.startswith("image/") else None
    response = MockResponse(raw if json_body else text or raw.decode(), status_code=status, headers=answer_headers,
                            content_type=content_type or "application/octet-stream")
    try:
        if valid:
            SPEC.validate_request(request)
        SPEC.validate_response(request, response)
    except Exception as e:  # every openapi-core error names what did not fit
        detail = "; ".join(str(x) for x in getattr(e, "schema_errors", []) or [])
        failures.append(f"{label}: {type(e).__name__}: {e} {detail}".strip())
    if status == 200 and "ETag" not in answer_headers and content_type != "text/event-stream":
        failures.append(f"{label}: no ETag")
    body = None
    if content_type in ("application/json", "application/feed+json") and raw:
        body = json.loads(raw)
        op = DOC["paths"][route]["get"]["responses"].get(str(status), {})
        schema = op.get("content", {}).get(content_type, {}).get("schema")
        if schema:
            extra = undocumented(schema, body, "$")
            if extra:
                failures.append(f"{label}: undocumented fields {extra[:5]}")
    return status, answer_headers, body


def graphql(query, variables):
    payload = json.dumps({"query": query, "variables": variables}).encode()
    status, _, raw = fetch("/graphql", method="POST", body=payload, headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {LEGAL}"})
    body = json.loads(raw)
    assert status == 200 and not body.get("errors"), body
    return body["data"]


KEY = {"X-Api-Key": PARTNER}
BAD_KEY = {"X-Api-Key": "not-a-key"}

# Lists and paging.
_, _, page = check("/v1/articles", "/v1/articles", expect=200)
_, _, page = check("/v1/articles", "/v1/articles", {"limit": "2"}, expect=200)
check("/v1/articles", "/v1/articles", {"limit": "2", "cursor": page["nextCursor"]}, expect=200)
_, _, sections = check("/v1/sections", "/v1/sections", expect=200)
section = sections[0]["slug"]
check("/v1/sections", "/v1/sections", {"script": "hans"}, expect=200)
check("/v1/articles", "/v1/articles", {"section": section, "script": "hant-tw"}, expect=200)
check("/v1/site", "/v1/site", {"script": "hant-hk"}, expect=200)
check("/v1/recommendations/{list}", "/v1/recommendations/home", expect=200)
check("/v1/recommendations/{list}", "/v1/recommendations/no-such-list", expect=200)
check("/v1/search", "/v1/search", {"q": "服務"}, expect=200)
check("/v1/search", "/v1/search", {"q": "經濟", "limit": "5", "offset": "0", "script": "hans"}, expect=200)
_, _, hits = check("/v1/search", "/v1/search",
                   {"q": "臨沂", "limit": "1", "facets": "true", "sort": "newest",
                    "from": "2000-01-01", "to": "2100-01-01T00:00:00+08:00"}, expect=200)
if "nextCursor" in hits:
    check("/v1/search", "/v1/search", {"q": "臨沂", "limit": "1", "cursor": hits["nextCursor"]},
          expect=200)
check("/v1/search", "/v1/search", {"q": "臨沂", "source": "無此來源", "contributor": "無此人",
                                   "tag": "no-such"}, expect=200)
check("/v1/suggest", "/v1/suggest", {"q": "臨沂"}, expect=200)
check("/v1/suggest", "/v1/suggest", {"q": "社", "limit": "3", "script": "hans"}, expect=200)
_, streamed, _ = check("/v1/stream", "/v1/stream", {"script": "hans", "section": section}, expect=200)
if streamed.get("Cache-Control") != "no-store":
    failures.append("/v1/stream: not marked no-store")
check("/healthz", "/healthz", expect=200)
check("/readyz", "/readyz", expect=200)

# One article, its conditional GET, ninjs and feeds.
_, head, article = check("/v1/articles/{key}", f"/v1/articles/{SAMPLE}", expect=200)
check("/v1/articles/{key}", f"/v1/articles/{SAMPLE}", headers={"If-None-Match": head["ETag"]},
      expect=304)
check("/v1/articles/{key}", f"/v1/articles/{article['slug']}", {"script": "hans"}, expect=200)
check("/v1/ninjs/articles/{id}", f"/v1/ninjs/articles/{SAMPLE}", expect=200)
check("/v1/ninjs/articles/{id}", f"/v1/ninjs/articles/{SAMPLE}", headers=KEY, expect=200)
check("/v1/ninjs/feed", "/v1/ninjs/feed", expect=200)
check("/v1/ninjs/feed", "/v1/ninjs/feed", {"section": section, "since": "2000-01-01T00:00:00Z"},
      headers=KEY, expect=200)
for ext in ("rss", "atom", "json"):
    check("/feeds/{name}", f"/feeds/all.{ext}", expect=200)
    check("/feeds/{name}", f"/feeds/{section}.{ext}", {"script": "hans"}, headers=KEY, expect=200)

# Bad input: typed errors, each documented.
for query in ({"limit": "0"}, {"limit": "abc"}, {"cursor": "garbage"}, {"script": "klingon"}):
    check("/v1/articles", "/v1/articles", query, expect=400, valid=False)
check("/v1/articles", "/v1/articles", {"section": "no-such"}, expect=404)
check("/v1/search", "/v1/search", {"q": "x", "section": "no-such"}, expect=404)
check("/v1/articles/{key}", "/v1/articles/999999", expect=404)
check("/v1/articles/{key}", f"/v1/articles/{SAMPLE}", {"script": "x"}, expect=400, valid=False)
check("/v1/sections", "/v1/sections", {"script": "x"}, expect=400, valid=False)
check("/v1/site", "/v1/site", {"script": "x"}, expect=400, valid=False)
check("/v1/recommendations/{list}", "/v1/recommendations/home", {"script": "x"}, expect=400,
      valid=False)
check("/v1/removed", "/v1/removed", {"since": "yesterday"}, expect=400, valid=False)
check("/v1/removed", "/v1/removed", {"limit": "500"}, expect=400, valid=False)
check("/v1/search", "/v1/search", expect=400, valid=False)
check("/v1/search", "/v1/search", {"q": "x", "offset": "50000"}, expect=400, valid=False)
for bad in ({"sort": "best"}, {"from": "yesterday"}, {"cursor": "garbage"}, {"facets": "maybe"}):
    check("/v1/search", "/v1/search", {"q": "x", **bad}, expect=400, valid=False)
check("/v1/suggest", "/v1/suggest", expect=400, valid=False)
check("/v1/stream", "/v1/stream", {"section": "no-such"}, expect=404)
check("/v1/stream", "/v1/stream", {"last_event_id": "soon"}, expect=400, valid=False)
check("/v1/suggest", "/v1/suggest", {"q": "社", "limit": "50"}, expect=400, valid=False)
check("/v1/ninjs/articles/{id}", "/v1/ninjs/articles/abc", expect=404, valid=False)
check("/v1/ninjs/articles/{id}", "/v1/ninjs/articles/999999", expect=404)
check("/v1/ninjs/articles/{id}", f"/v1/ninjs/articles/{SAMPLE}", headers=BAD_KEY, expect=401)
check("/v1/ninjs/feed", "/v1/ninjs/feed", {"since": "soon"}, expect=400, valid=False)
check("/v1/ninjs/feed", "/v1/ninjs/feed", {"section": "no-such"}, expect=404)
check("/robots.txt", "/robots.txt", expect=200)
check("/sitemap.xml", "/sitemap.xml", expect=200)
for name in ("articles-1.xml", "sections.xml", "news.xml"):
    check("/sitemaps/{name}", f"/sitemaps/{name}", expect=200)
check("/sitemaps/{name}", "/sitemaps/articles-9.xml", expect=404)
check("/sitemaps/{name}", "/sitemaps/nothing.xml", expect=404)
check("/feeds/{name}", "/feeds/all.txt", expect=404)
check("/feeds/{name}", "/feeds/no-such.rss", expect=404)
check("/feeds/{name}", "/feeds/all.rss", headers=BAD_KEY, expect=401)
SLOW = {"X-Api-Key": os.environ["NEWSDESK_CHECK_SLOW_PARTNER"]}
check("/v1/ninjs/feed", "/v1/ninjs/feed", headers=SLOW, expect=200)
_, limited, _ = check("/v1/ninjs/feed", "/v1/ninjs/feed", headers=SLOW, expect=429)
if "Retry-After" not in limited:
    failures.append("429 without Retry-After")

# A takedown: 451 with a tombstone, canceled stubs, the removed list.
filed = graphql(
    "mutation($input: TakedownInput!) { submitTakedownRequest(input: $input) { id } }",
    {"input": {"claimantName": "權利人", "contactEmail": "rights@example.test",
               "contactAddress": "濟南市測試路1號", "articles": [SAMPLE],
               "rightsStatement": "本社擁有該作品著作權", "evidenceLinks": [],
               "reason": "未經授權轉載", "goodFaithStatement": True}})
request_id = filed["submitTakedownRequest"]["id"]
graphql("mutation($id: ID!) { startTakedownReview(id: $id) { state } }", {"id": request_id})
graphql("mutation($id: ID!) { acceptTakedownRequest(id: $id, note: \"權屬清楚\") { state } }",
        {"id": request_id})
check("/v1/articles/{key}", f"/v1/articles/{SAMPLE}", expect=451)
check("/v1/ninjs/articles/{id}", f"/v1/ninjs/articles/{SAMPLE}", expect=451)
_, _, removed = check("/v1/removed", "/v1/removed", {"since": "2000-01-01T00:00:00Z", "limit": "10"},
                      expect=200)
if not removed or not removed["items"]:
    failures.append("/v1/removed: the withdrawn article is missing")
check("/v1/ninjs/feed", "/v1/ninjs/feed", {"since": "2000-01-01T00:00:00Z"}, expect=200)



def png(width, height):
    """A small RGB PNG, made without an imaging library."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\0" + b"".join(bytes((x * 7 % 256, y * 5 % 256, 90)) for x in range(width))
                    for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def upload(file, token, expect):
    """POSTs `file` to /v1/media as a form; validates the answer against the document."""
    boundary = "openapi-check-boundary"
    body = (f"--{boundary}\r\ncontent-disposition: form-data; name=\"alt\"\r\n\r\n碼頭\r\n"
            f"--{boundary}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n"
            f"content-type: image/png\r\n\r\n").encode() + file + f"\r\n--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    status, answer_headers, raw = fetch("/v1/media", method="POST", body=body, headers=headers)
    label = f"POST /v1/media -> {status}"
    called.add("/v1/media")
    if status != expect:
        failures.append(f"{label}: expected {expect}: {raw[:200]!r}")
    content_type = answer_headers.get("Content-Type", "").split(";")[0].strip()
    request = MockRequest(BASE, "post", "/v1/media", headers=headers)
    response = MockResponse(raw, status_code=status, headers=answer_headers, content_type=content_type)
    try:
        SPEC.validate_response(request, response)
    except Exception as e:  # every openapi-core error names what did not fit
        detail = "; ".join(str(x) for x in getattr(e, "schema_errors", []) or [])
        failures.append(f"{label}: {type(e).__name__}: {e} {detail}".strip())
    return json.loads(raw) if raw else None


EDITOR = os.environ["NEWSDESK_CHECK_EDITOR"]
picture = png(400, 200)
kept = upload(picture, EDITOR, 201)
upload(picture, EDITOR, 200)
upload(picture, None, 401)
upload(picture, LEGAL, 403)
upload(b"<?php echo 1; ?>", EDITOR, 415)
upload(picture[: len(picture) // 2], EDITOR, 422)
if kept:
    media_id = kept["id"]
    _, tagged, _ = check("/media/{id}/{file}", f"/media/{media_id}/320.jpg", expect=200)
    check("/media/{id}/{file}", f"/media/{media_id}/400.webp", expect=200)
    check("/media/{id}/{file}", f"/media/{media_id}/320.jpg", headers={"If-None-Match": tagged["ETag"]},
          expect=304)
    check("/media/{id}/{file}", f"/media/{media_id}/1280.jpg", expect=404)

for route in DOC["paths"]:
    if route not in called:
        failures.append(f"{route}: documented but never called")

if failures:
    print("OpenAPI check FAILED:")
    for f in failures:
        print("  " + f)
    sys.exit(1)
print(f"OpenAPI check: {len(DOC['paths'])} routes, every answer fits the document")
