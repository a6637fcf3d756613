"""Strict validation of Anthropic Messages bodies with the anthropic SDK's own request TypedDicts.

The SDK TypedDicts go through pydantic; the core schema is then tightened: every TypedDict/model forbids
extra keys (the real API answers "Extra inputs are not permitted") and lazy `Iterable[...]` fields become lists
so that they are validated at once. Building takes ~1 s (the SDK import), so it is warmed in a thread at boot.
"""
from __future__ import annotations

import re
import threading

_lock = threading.Lock()
_validators: dict[str, object] = {}

_FIELD = re.compile(r"^[a-z_][a-z0-9_]*$")
_NOT_FIELDS = {"str", "list", "dict", "int", "bool", "float", "none", "literal"}


def _tighten(s) -> None:
    if isinstance(s, dict):
        t = s.get("type")
        if t in ("typed-dict", "model-fields") and "extras_schema" not in s:
            s["extra_behavior"] = "forbid"
        if t == "generator":
            s["type"] = "list"
        for v in list(s.values()):
            _tighten(v)
    elif isinstance(s, list):
        for v in s:
            _tighten(v)


def _build(kind: str):
    from pydantic import TypeAdapter
    from pydantic_core import SchemaValidator

    if kind == "messages":
        from anthropic.types.beta.message_create_params import MessageCreateParamsNonStreaming as T
    else:
        from anthropic.types.beta.message_count_tokens_params import MessageCountTokensParams as T
    core = TypeAdapter(T).core_schema
    _tighten(core)
    return SchemaValidator(core)


def validator(kind: str = "messages"):
    with _lock:
        v = _validators.get(kind)
        if v is None:
            v = _validators[kind] = _build(kind)
        return v


def warm() -> None:
    threading.Thread(target=lambda: (validator("messages"), validator("count_tokens")), daemon=True).start()


def _clean_loc(loc) -> list:
    out = []
    for part in loc:
        if isinstance(part, int):
            out.append(part)
        elif isinstance(part, str) and _FIELD.match(part) and part not in _NOT_FIELDS:
            out.append(part)
    return out


def _is_tag(part) -> bool:
    return isinstance(part, str) and (not _FIELD.match(part) or part in _NOT_FIELDS)


def first_error(exc) -> str:
    """The most specific error of a pydantic ValidationError, phrased like the Anthropic API.

    Union branches whose `type` discriminator did not match are ignored, then the deepest error wins
    (a wrong value before an extra key)."""
    errors = exc.errors()
    bad = []
    for err in errors:
        loc = tuple(err.get("loc", ()))
        if err.get("type") == "literal_error" and loc and loc[-1] == "type" and len(loc) >= 2 and _is_tag(loc[-2]):
            bad.append(loc[:-1])
    cands = [e for e in errors if not any(tuple(e.get("loc", ()))[: len(b)] == b for b in bad)] or errors
    best = None
    for err in cands:
        loc = _clean_loc(err.get("loc", ()))
        score = (len(loc), err.get("type") != "extra_forbidden")
        if best is None or score > best[0]:
            best = (score, loc, err.get("msg", "invalid"))
    _, loc, msg = best
    path = ".".join(str(p) for p in loc)
    return f"{path}: {msg}" if path else msg


# Sampling parameters the API still accepts under anthropic-version 2023-06-01 (what gateways and Claude Code send,
# e.g. the CLI's web-search sub-request carries `temperature: 1`) but which the installed SDK's request TypedDicts
# no longer declare. They are checked here with the API's own ranges, then left out of the schema validation.
_SAMPLING = {"temperature": (0.0, 1.0, (int, float)), "top_p": (0.0, 1.0, (int, float)), "top_k": (0, None, (int,))}


def _sampling_error(body: dict) -> str | None:
    for key, (low, high, types) in _SAMPLING.items():
        if key not in body:
            continue
        value = body[key]
        if isinstance(value, bool) or not isinstance(value, types):
            return f"{key}: Input should be a valid number"
        if value < low or (high is not None and value > high):
            return f"{key}: Input should be {'between ' + str(low) + ' and ' + str(high) if high is not None else '>= ' + str(low)}"
    return None


def body_fields() -> set[str]:
    """Top-level fields of an Anthropic Messages body (the SDK's MessageCreateParams, plus the sampling fields)."""
    from anthropic.types.beta.message_create_params import MessageCreateParamsBase as T

    return set(T.__required_keys__) | set(T.__optional_keys__) | set(_SAMPLING)


def validate(body: dict, kind: str = "messages") -> str | None:
    """None when the body is valid, else the error message."""
    from pydantic_core import ValidationError

    if kind == "messages":
        problem = _sampling_error(body)
        if problem:
            return problem
        body = {k: v for k, v in body.items() if k not in _SAMPLING}
    try:
        validator(kind).validate_python(body, strict=True)
    except ValidationError as exc:
        return first_error(exc)
    return None
