"""Which dialect and operation a path belongs to (regexes over the decoded path)."""
from __future__ import annotations

import re

ROUTES = [
    # (provider, operation, method, regex)
    ("azure", "count_tokens", "POST", re.compile(r"^/anthropic/v1/messages/count_tokens$")),
    ("azure", "messages", "POST", re.compile(r"^/anthropic/v1/messages$")),
    ("anthropic", "count_tokens", "POST", re.compile(r"^/v1/messages/count_tokens$")),
    ("anthropic", "messages", "POST", re.compile(r"^/v1/messages$")),
    ("bedrock_invoke", "invoke", "POST", re.compile(r"^/model/(?P<model_id>.+)/invoke$")),
    ("bedrock_invoke", "invoke_stream", "POST", re.compile(r"^/model/(?P<model_id>.+)/invoke-with-response-stream$")),
    ("bedrock_converse", "converse", "POST", re.compile(r"^/model/(?P<model_id>.+)/converse$")),
    ("bedrock_converse", "converse_stream", "POST", re.compile(r"^/model/(?P<model_id>.+)/converse-stream$")),
    ("bedrock_converse", "count_tokens", "POST", re.compile(r"^/model/(?P<model_id>.+)/count-tokens$")),
    ("vertex_ai", "token", "POST", re.compile(r"^/token$")),
    ("vertex_ai", "count_tokens", "POST", re.compile(
        r"^/v1(?:beta1)?/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/publishers/anthropic/models/count-tokens:rawPredict$")),
    ("vertex_ai", "messages", "POST", re.compile(
        r"^/v1(?:beta1)?/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/publishers/anthropic/models/(?P<model>[^/:]+):(?P<verb>rawPredict|streamRawPredict)$")),
]


def match(method: str, path: str):
    """(provider, operation, params) or None; a known path with the wrong method gives operation '_method'."""
    for provider, op, m, rx in ROUTES:
        mo = rx.match(path)
        if mo:
            if method != m:
                return provider, "_method", {}
            return provider, op, mo.groupdict()
    return None
