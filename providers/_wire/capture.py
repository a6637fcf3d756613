"""Reading one captured request: ``{"method", "path", "query", "headers", "body"}`` as the emulator and the
fidelity recorder store it (``body`` parsed JSON, or a str/bytes body parsed here)."""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs


class DecodeError(ValueError):
    """A captured request that is not of the wire format it was decoded as."""


def header(headers: Any, name: str) -> str | None:
    """Case-insensitive header lookup over a dict, a list of pairs or Starlette Headers."""
    if not headers:
        return None
    items = headers.items() if hasattr(headers, "items") else headers
    name = name.lower()
    values = [str(v) for k, v in items if str(k).lower() == name]
    if not values:
        return None
    return ",".join(values)


def parse_body(body: Any) -> Any:
    if isinstance(body, (bytes, bytearray)):
        body = body.decode("utf-8")
    if isinstance(body, str):
        if not body.strip():
            return {}
        try:
            return json.loads(body)
        except json.JSONDecodeError as e:
            raise DecodeError(f"body is not JSON: {e}") from e
    return body if body is not None else {}


def json_object(capture: dict[str, Any]) -> dict[str, Any]:
    body = parse_body(capture.get("body"))
    if not isinstance(body, dict):
        raise DecodeError("body is not a JSON object")
    return body


def split_path(capture: dict[str, Any]) -> tuple[str, dict[str, list[str]]]:
    """(path without query, query as dict of lists) from a capture whose path may carry the query."""
    path = str(capture.get("path") or "")
    query: dict[str, list[str]] = {}
    if "?" in path:
        path, qs = path.split("?", 1)
        query.update(parse_qs(qs, keep_blank_values=True))
    q = capture.get("query")
    if isinstance(q, str) and q:
        for k, v in parse_qs(q.lstrip("?"), keep_blank_values=True).items():
            query.setdefault(k, v)
    elif isinstance(q, dict):
        for k, v in q.items():
            query.setdefault(k, v if isinstance(v, list) else [v])
    return path, query


def split_betas(value: Any) -> list[str]:
    """Beta flags from a comma-separated header or a body list."""
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(",")
    return [b.strip() for b in value if isinstance(b, str) and b.strip()]
