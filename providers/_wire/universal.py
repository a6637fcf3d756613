"""The universal (provider-neutral) request and response: the one model every wire codec speaks.

The emulator decides its answer from a UniversalRequest (providers/<id>/emulator.py decodes the wire with its
codec, emulator/model.py answers a Reply) and fidelity diffs the UniversalRequest of what the client sent against
the one of what reached the provider (fidelity/diff.py). Why it lives here and not in fidelity/ or emulator/: the
codecs (providers/_wire/messages.py, converse.py) produce it, and both consumers read it; neither depends on the
other.

Normalisation is done here (and only here) so that all decoders agree on it:

- a plain string is one text part; adjacent messages of the same role are merged;
- JSON schemas, tool inputs and other free JSON are compared canonically (sorted keys, no whitespace);
- null, missing and empty (``""``, ``[]``, ``{}``) are the same thing: empty values are dropped;
- binary data (images, PDFs, redacted thinking) is compared by the sha256 of the decoded bytes (the bytes
  themselves ride along in ``Part.data`` for the emulator, which reads them, but are never dumped nor diffed);
- a cache marker is attached to the part it marks (a Converse ``cachePoint`` is folded onto the part before it),
  and an unspecified TTL means the provider default, ``5m``;
- defaults that mean "nothing asked for" are dropped: ``tool_choice: auto`` with parallel use allowed,
  ``thinking: disabled``.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

PartKind = Literal["text", "image", "document", "tool_use", "tool_result", "reasoning", "json", "unknown"]


def canonical_json(value: Any) -> str:
    """Canonical JSON text: sorted keys, no whitespace, non-ASCII kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def b64_bytes(data: Any) -> bytes | None:
    """The bytes of a base64 string (None when it does not decode)."""
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    if not isinstance(data, str):
        return None
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None


def b64_or_text(data: str) -> bytes:
    """The bytes an opaque blob stands for: base64-decoded, or the UTF-8 text itself when it is not base64."""
    raw = b64_bytes(data)
    return data.encode("utf-8") if raw is None else raw


def sha256_b64(data: str) -> str:
    """sha256 of base64 data's decoded bytes (of the text itself if it is not valid base64)."""
    return sha256_bytes(b64_or_text(data))


def sha256_text(text: str) -> str:
    return sha256_bytes(text.encode("utf-8"))


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def prune(value: Any) -> Any:
    """Drop null/empty values recursively (null, missing and empty are alike)."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = prune(v)
            if not is_empty(v):
                out[k] = v
        return out
    if isinstance(value, list):
        return [prune(v) for v in value]
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def dump(self) -> dict[str, Any]:
        """JSON-ready dict with empty values removed: the form the differ works on."""
        return prune(self.model_dump(mode="json", exclude_none=True))


class Cache(_Model):
    ttl: str = "5m"  # unspecified = the provider default
    scope: str | None = None  # Anthropic's cache_control.scope (prompt-caching-scope beta)


class Part(_Model):
    kind: PartKind
    type: str | None = None  # the wire type of an unknown block
    text: str | None = None
    # media (image, document) and redacted data
    media_type: str | None = None
    source: str | None = None  # only for non-inline sources: url | file | s3 | content
    ref: str | None = None  # url, file id or s3 uri of a non-inline source
    sha256: str | None = None  # of the decoded bytes (of the UTF-8 text of a text document)
    title: str | None = None  # document name/title
    context: str | None = None
    citations: bool | None = None
    # tool use / tool result
    id: str | None = None  # tool_use id, or the tool_use_id a tool_result answers
    name: str | None = None
    input: Any = None  # the tool input (JSON), compared structurally
    is_error: bool | None = None
    content: list["Part"] | None = None  # tool_result content
    # reasoning
    signature: str | None = None
    redacted: bool | None = None
    # anything else
    raw: str | None = None  # canonical JSON of an unknown block (minus the cache marker)
    cache: Cache | None = None
    # The payload of inline content — image/document bytes, a text document's UTF-8 text, redacted reasoning
    # data — decoded; None when it is not inline or its base64 does not decode. What the emulator reads (media,
    # signatures); never dumped nor diffed: `sha256` stands for it.
    data: bytes | None = Field(default=None, exclude=True, repr=False)


class Message(_Model):
    role: str  # user | assistant (| system for mid-conversation system messages, as sent)
    parts: list[Part] = Field(default_factory=list)


class Tool(_Model):
    name: str
    kind: str = "custom"  # custom, or a server tool type such as bash_20250124
    description: str | None = None
    input_schema: dict[str, Any] | None = None  # compared structurally (key order is irrelevant)
    strict: bool | None = None
    extra: dict[str, Any] | None = None  # other fields (defer_loading, input_examples, ...)
    cache: Cache | None = None


class ToolChoice(_Model):
    mode: Literal["auto", "any", "tool", "none"]
    name: str | None = None
    parallel: bool | None = None  # only False is meaningful (parallel use is the default)


class Sampling(_Model):
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop_sequences: list[str] | None = None


class Reasoning(_Model):
    mode: str | None = None  # enabled | adaptive (disabled is dropped: it is the default)
    budget_tokens: int | None = None
    effort: str | None = None  # output_config.effort
    display: str | None = None
    extra: dict[str, Any] | None = None


class OutputFormat(_Model):
    type: str | None = None
    schema_: Any = Field(default=None, alias="schema", serialization_alias="schema")  # JSON schema, compared structurally
    name: str | None = None

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def dump(self) -> dict[str, Any]:
        return prune(self.model_dump(mode="json", exclude_none=True, by_alias=True))


class Metadata(_Model):
    user_id: str | None = None
    request_metadata: dict[str, str] | None = None  # Converse requestMetadata


class Envelope(_Model):
    format: str  # the dialect: anthropic | bedrock_invoke | bedrock_converse | vertex_ai | azure
    endpoint: str | None = None  # messages | count_tokens | invoke | converse | rawPredict
    stream: bool = False
    model: str | None = None
    model_location: Literal["body", "url"] | None = None
    stream_location: Literal["body", "url", "url+body"] | None = None
    api_version: str | None = None


class UniversalRequest(_Model):
    envelope: Envelope
    system: list[Part] = Field(default_factory=list)
    messages: list[Message] = Field(default_factory=list)
    tools: list[Tool] = Field(default_factory=list)
    tool_choice: ToolChoice | None = None
    sampling: Sampling = Field(default_factory=Sampling)
    reasoning: Reasoning | None = None
    output_format: OutputFormat | None = None
    metadata: Metadata | None = None
    betas: list[str] = Field(default_factory=list)
    context_management: dict[str, Any] | None = None
    unmapped: dict[str, Any] = Field(default_factory=dict)

    def dump(self) -> dict[str, Any]:
        d = self.model_dump(mode="json", exclude_none=True, by_alias=True)
        return prune(d)

    def normalised(self) -> "UniversalRequest":
        """Apply the cross-dialect normalisation rules (idempotent)."""
        merged: list[Message] = []
        for m in self.messages:
            if merged and merged[-1].role == m.role:
                merged[-1] = Message(role=m.role, parts=[*merged[-1].parts, *m.parts])
            else:
                merged.append(Message(role=m.role, parts=list(m.parts)))
        tc = self.tool_choice
        if tc is not None:
            if tc.parallel is True:
                tc = tc.model_copy(update={"parallel": None})
            if tc.mode == "auto" and tc.parallel is None and tc.name is None:
                tc = None
        reasoning = self.reasoning
        if reasoning is not None and reasoning.mode == "disabled":
            reasoning = reasoning.model_copy(update={"mode": None})
        if reasoning is not None and not reasoning.dump():
            reasoning = None
        md = self.metadata
        if md is not None and not md.dump():
            md = None
        of = self.output_format
        if of is not None and not of.dump():
            of = None
        return self.model_copy(
            update={
                "messages": merged,
                "tool_choice": tc,
                "reasoning": reasoning,
                "metadata": md,
                "output_format": of,
                "betas": sorted(set(self.betas)),
            }
        )


Part.model_rebuild()


@dataclass
class Reply:
    """The universal response: what the emulator's scripted model answers, before a codec puts it on the wire.

    `content` uses the Messages block vocabulary (text, thinking, redacted_thinking, tool_use, server_tool_use,
    web_search_tool_result, tool_search_tool_result): the richest of the wire formats, so no codec has to invent
    what it does not have; `usage` uses the Messages usage names (input_tokens, cache_creation {ephemeral_5m/1h},
    ...). Each codec encodes it (messages.reply_json / sse_events, converse.encode_reply / stream_events)."""
    model: str
    content: list
    stop_reason: str
    usage: dict
    id: str = field(default_factory=lambda: "msg_emu_" + uuid.uuid4().hex[:24])
    stream_hints: dict = field(default_factory=dict)   # e.g. {"buffer": True}

    def summary(self) -> dict:
        """What an emulator capture records as the `response` (whatever the wire it was encoded to)."""
        return {"content": self.content, "stop_reason": self.stop_reason, "usage": self.usage}
