"""Which dialect and operation a path belongs to (regexes over the decoded path)."""
from __future__ import annotations

import re
from functools import lru_cache

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
        r"^/v1(?:beta1)?/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/publishers/anthropic/models/(?P<model>[^/]+?):(?P<verb>rawPredict|streamRawPredict)$")),
]


def match(method: str, path: str):
    """(provider, operation, params) or None; a known path with the wrong method gives operation '_method'."""
    for provider, op, m, rx in ROUTES:
        mo = rx.match(path)
        if mo:
            if method != m:
                return provider, "_method", {"operation": op}
            return provider, op, mo.groupdict()
    return None


# A path that matches no route: the provider it was most likely meant for (its error shape answers it).
GUESS = [
    ("vertex_ai", re.compile(r"^/(?:v1(?:beta1)?/projects/|token$)")),
    ("azure", re.compile(r"^/anthropic/")),
    ("bedrock_invoke", re.compile(r"^/model/.+/invoke[^/]*$")),
    ("bedrock_converse", re.compile(r"^/(?:model|guardrail|guardrail-checks|async-invoke)(?:/|$)")),
    ("anthropic", re.compile(r"^/v1/")),
]
# Bedrock runtime's own namespaces: botocore's service model lists every operation under them, so a path there
# that is no operation is one Bedrock itself refuses (not a gap of the emulator).
BEDROCK_NAMESPACE = re.compile(r"^/(?:model|guardrail|guardrail-checks|async-invoke)(?:/|$)")


def guess_provider(path: str) -> str | None:
    return next((p for p, rx in GUESS if rx.match(path)), None)


@lru_cache(maxsize=1)
def _bedrock_operations() -> list[tuple[str, str, re.Pattern]]:
    """(operation, method, path regex) of every bedrock-runtime operation in botocore's service model."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("bedrock-runtime")
    out = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri = http["requestUri"].split("?", 1)[0]
        rx = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(uri)).replace("/model/[^/]+/", "/model/.+/")
        out.append((name, http["method"], re.compile("^" + rx + "$")))
    return out


def bedrock_operation(method: str, path: str) -> str | None:
    """The bedrock-runtime operation (botocore's name) this request is, or None."""
    return next((name for name, m, rx in _bedrock_operations() if m == method and rx.match(path)), None)
