"""The universal (provider-neutral) request that every decoder produces.

One shape for what the client sent and for what reached the provider, so the two can be diffed field by field.
Normalisation is done here (and only here) so that all decoders agree on it:

- a plain string is one text part; adjacent messages of the same role are merged;
- JSON schemas, tool inputs and other free JSON are compared canonically (sorted keys, no whitespace);
- null, missing and empty (``""``, ``[]``, ``{}``) are the same thing: empty values are dropped;
- binary data (images, PDFs, redacted thinking) is compared by the sha256 of the decoded bytes;
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
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

PartKind = Literal["text", "image", "document", "tool_use", "tool_result", "reasoning", "json", "unknown"]


def canonical_json(value: Any) -> str:
    """Canonical JSON text: sorted keys, no whitespace, non-ASCII kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_b64(data: str) -> str:
    """sha256 of base64 data's decoded bytes (of the text itself if it is not valid base64)."""
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raw = data.encode("utf-8")
    return sha256_bytes(raw)


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
