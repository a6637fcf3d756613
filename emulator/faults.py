"""Fault injection, per job.

A Fault (JSON, via `POST /_emulator/jobs` "faults" or `POST /_emulator/faults`):
  provider        str | null   one of anthropic, bedrock_invoke, bedrock_converse, vertex_ai, azure; null = all
  status          int | null   answer this HTTP status in the provider's error shape (429 adds retry-after)
  retry_after     int | null   seconds for the retry-after header (default 1 with 429)
  delay_s         float | null sleep before answering
  cut_stream_after int | null  stream this many events, then drop the connection mid-stream
  malformed_frame bool         emit one corrupt frame (bad JSON SSE data / bad event-stream CRC) in the stream
  stream_error_after int | null stream this many events, then the provider's own mid-stream error and stop:
                               SSE `event: error` (overloaded_error) for Anthropic/Vertex/Azure, an event-stream
                               `:message-type exception` frame (serviceUnavailableException) for Bedrock
  times           int | null   how many matching requests it applies to (null = always)
  mode            str | null   a named break of ONE feature (see MODES)
  operation       str | null   restrict to one operation (e.g. "messages", "count_tokens", "converse_stream")

Faults never apply to `/_emulator/*`, `HEAD /`, `GET /` or the Vertex `/token` endpoint (unless operation="token").
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

MODES = {
    "strip_thinking": "no thinking block in the reply even when thinking is enabled",
    "tamper_signature": "the thinking signature sent is not the one the emulator will accept later",
    "drop_cache_usage": "cache_creation/cache_read usage reported as 0 (cache still tracked)",
    "downgrade_ttl_1h": "1h cache markers are treated (and reported) as 5m",
    "buffer_stream": "the whole text / tool input arrives as ONE delta",
    "wrong_token_count": "count_tokens answers a number far from the real count",
    "corrupt_image": "image/document bytes are read as if corrupted (answer cannot name the content)",
    "no_tool_use": "never answer with tool_use, plain text instead",
    "drop_usage": "usage in streams reports zero input/output tokens",
    "refuse_web_search": "the web_search server tool is refused as on a provider without it",
}


@dataclass
class Fault:
    provider: str | None = None
    status: int | None = None
    retry_after: int | None = None
    delay_s: float | None = None
    cut_stream_after: int | None = None
    malformed_frame: bool = False
    stream_error_after: int | None = None
    times: int | None = None
    mode: str | None = None
    operation: str | None = None

    @classmethod
    def from_json(cls, d: dict) -> "Fault":
        if not isinstance(d, dict):
            raise ValueError("fault must be an object")
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        f = cls(**d)
        if f.mode is not None and f.mode not in MODES:
            raise ValueError(f"unknown fault mode {f.mode!r}; known: {sorted(MODES)}")
        return f

    def to_json(self) -> dict:
        return asdict(self)

    def matches(self, provider: str, operation: str) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.provider is not None and self.provider != provider:
            return False
        if self.operation is not None and self.operation != operation:
            return False
        return True


@dataclass
class Applied:
    """The faults that apply to one request, merged."""
    status: int | None = None
    retry_after: int | None = None
    delay_s: float = 0.0
    cut_stream_after: int | None = None
    malformed_frame: bool = False
    stream_error_after: int | None = None
    modes: frozenset = frozenset()

    def has(self, mode: str) -> bool:
        return mode in self.modes

    def describe(self, stream_faults: list[str] | None = None) -> str | None:
        """"fault: ..." naming what the run injected into an answer that was not an error, or None.

        A named mode counts as soon as it applies to the request (the emulator does not track whether the request
        exercised the feature it breaks); stream faults count only as the stream really carried them
        (`stream_faults`, from dialects.base.stream_response)."""
        parts = []
        if self.delay_s:
            parts.append(f"delay {self.delay_s:g}s")
        parts.extend(stream_faults or [])
        parts.extend(f"mode {m} ({MODES[m]})" for m in sorted(self.modes))
        return "fault: " + "; ".join(parts) if parts else None


class FaultBook:
    def __init__(self) -> None:
        self.faults: list[Fault] = []

    def set(self, faults: list[Fault]) -> None:
        self.faults = list(faults)

    def add(self, fault: Fault) -> None:
        self.faults.append(fault)

    def clear(self) -> None:
        self.faults = []

    def take(self, provider: str, operation: str, *, explicit_only: bool = False) -> Applied:
        """Faults matching this request; consumes one use of each `times`-limited fault. `explicit_only`: only
        faults naming this very operation (the Vertex `/token` exchange is exempt from the others)."""
        out = Applied()
        modes = set()
        for f in self.faults:
            if not f.matches(provider, operation) or (explicit_only and f.operation != operation):
                continue
            if f.times is not None:
                f.times -= 1
            if f.status is not None and out.status is None:
                out.status = f.status
                out.retry_after = f.retry_after
            if f.delay_s:
                out.delay_s += f.delay_s
            if f.cut_stream_after is not None:
                out.cut_stream_after = f.cut_stream_after
            out.malformed_frame = out.malformed_frame or bool(f.malformed_frame)
            if f.stream_error_after is not None:
                out.stream_error_after = f.stream_error_after
            if f.mode:
                modes.add(f.mode)
        out.modes = frozenset(modes)
        return out
