"""Schemathesis checks for this API.

`no_hidden_article` (T-FZ-2): no response to these anonymous requests
shows the slug or global id of an article that is not public (drafts,
scheduled, withdrawn); tests/schema_fuzz.sh seeds some and lists them in
the file named by NEWSDESK_HIDDEN_MARKERS.

GraphQL answers a refused or invalid request with an `errors` entry that
carries a stable `extensions.code` (UNAUTHENTICATED, BAD_USER_INPUT,
NOT_FOUND …), which is the designed outcome, not a server failure;
schemathesis' own `not_a_server_error` counts every such entry as one. This
check fails on what is a server failure here: an HTTP 5xx other than a
deliberate 503, or an error whose code is INTERNAL or missing.
"""

import json
import os

import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes

# `Upload` values come from the multipart request spec, never from the
# query text: inline, any string is a value the server must refuse cleanly.
schemathesis.graphql.scalar("Upload", st.text(max_size=20).map(nodes.String))

_HIDDEN = None


def hidden_markers():
    global _HIDDEN
    if _HIDDEN is None:
        path = os.environ.get("NEWSDESK_HIDDEN_MARKERS")
        _HIDDEN = json.load(open(path)) if path else []
    return _HIDDEN


@schemathesis.check
def no_internal_error(ctx, response, case):
    if response.status_code >= 500 and response.status_code != 503:
        raise AssertionError(f"HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if code in (None, "INTERNAL"):
            raise AssertionError(f"an internal error: {error}")
    return None


@schemathesis.check
def no_hidden_article(ctx, response, case):
    text = response.text or ""
    for marker in hidden_markers():
        if marker in text:
            raise AssertionError(f"a hidden article ({marker}) is in a public response")
    return None

