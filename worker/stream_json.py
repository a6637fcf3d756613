"""Parse the CLI's `--output-format stream-json` output into typed events.

Tolerant by design: unknown event types become `UnknownEvent`, non-JSON lines are kept as `NoiseLine`,
so a new CLI release or a stray log line never breaks a run's classification.
"""
from __future__ import annotations

import json
from typing import Any, Iterable

from pydantic import BaseModel, ConfigDict, Field


class _Event(BaseModel):
    model_config = ConfigDict(extra="allow")
    raw: dict[str, Any] = Field(default_factory=dict, exclude=True, repr=False)


class SystemInit(_Event):
    type: str = "system"
    subtype: str = "init"
    session_id: str | None = None
    model: str | None = None
    tools: list[str] = Field(default_factory=list)
    claude_code_version: str | None = None


class ApiRetry(_Event):
    type: str = "system"
    subtype: str = "api_retry"
    attempt: int | None = None
    error_status: int | None = None
    error: Any = None


class AssistantMessage(_Event):
    type: str = "assistant"
    message: dict[str, Any] = Field(default_factory=dict)

    @property
    def blocks(self) -> list[dict[str, Any]]:
        return list(self.message.get("content") or [])


class UserMessage(_Event):
    type: str = "user"
    message: dict[str, Any] = Field(default_factory=dict)
    tool_use_result: Any = None

    @property
    def blocks(self) -> list[dict[str, Any]]:
        content = self.message.get("content") or []
        return content if isinstance(content, list) else [{"type": "text", "text": content}]


class StreamEvent(_Event):
    type: str = "stream_event"
    event: dict[str, Any] = Field(default_factory=dict)


class ResultEvent(_Event):
    type: str = "result"
    subtype: str | None = None
    is_error: bool = False
    api_error_status: int | None = None
    num_turns: int | None = None
    result: str | None = None
    usage: dict[str, Any] = Field(default_factory=dict)
    structured_output: Any = None
    duration_ms: int | None = None


class UnknownEvent(_Event):
    type: str | None = None


class NoiseLine(BaseModel):
    """A line that is not a JSON object (a log line, a partial write)."""

    text: str


Event = SystemInit | ApiRetry | AssistantMessage | UserMessage | StreamEvent | ResultEvent | UnknownEvent | NoiseLine


def _typed(obj: dict[str, Any]) -> Event:
    kind, subtype = obj.get("type"), obj.get("subtype")
    cls: type[_Event]
    if kind == "system" and subtype == "init":
        cls = SystemInit
    elif kind == "system" and subtype == "api_retry":
        cls = ApiRetry
    elif kind == "assistant":
        cls = AssistantMessage
    elif kind == "user":
        cls = UserMessage
    elif kind == "stream_event":
        cls = StreamEvent
    elif kind == "result":
        cls = ResultEvent
    else:
        cls = UnknownEvent
    try:
        event = cls.model_validate(obj)
    except Exception:  # a known type with an unexpected shape: keep it, untyped
        event = UnknownEvent.model_validate({k: v for k, v in obj.items() if k != "raw"})
    event.raw = obj
    return event


def parse_lines(lines: Iterable[str]) -> list[Event]:
    events: list[Event] = []
    for line in lines:
        text = line.strip()
        if not text:
            continue
        try:
            obj = json.loads(text)
        except ValueError:
            events.append(NoiseLine(text=text[:2000]))
            continue
        if isinstance(obj, dict):
            events.append(_typed(obj))
        else:
            events.append(NoiseLine(text=text[:2000]))
    return events


def parse(text: str) -> list[Event]:
    return parse_lines(text.splitlines())


class Transcript:
    """Convenience views over a parsed run."""

    def __init__(self, events: list[Event]):
        self.events = events

    @property
    def result(self) -> ResultEvent | None:
        found = [e for e in self.events if isinstance(e, ResultEvent)]
        return found[-1] if found else None

    @property
    def init(self) -> SystemInit | None:
        return next((e for e in self.events if isinstance(e, SystemInit)), None)

    def assistant_blocks(self, kind: str | None = None) -> list[dict[str, Any]]:
        blocks = [b for e in self.events if isinstance(e, AssistantMessage) for b in e.blocks]
        return [b for b in blocks if kind is None or b.get("type") == kind]

    def assistant_messages_with(self, kind: str) -> list[str]:
        """Ids of the assistant messages (model turns) that carried a block of this kind, in order."""
        ids: list[str] = []
        for e in self.events:
            if isinstance(e, AssistantMessage) and any(b.get("type") == kind for b in e.blocks):
                mid = str(e.message.get("id") or len(ids))
                if mid not in ids:
                    ids.append(mid)
        return ids

    def user_blocks(self, kind: str | None = None) -> list[dict[str, Any]]:
        blocks = [b for e in self.events if isinstance(e, UserMessage) for b in e.blocks]
        return [b for b in blocks if kind is None or b.get("type") == kind]

    def stream_events(self, kind: str | None = None) -> list[dict[str, Any]]:
        found = [e.event for e in self.events if isinstance(e, StreamEvent)]
        return [e for e in found if kind is None or e.get("type") == kind]

    def retries(self) -> list[ApiRetry]:
        return [e for e in self.events if isinstance(e, ApiRetry)]

    def noise(self) -> list[NoiseLine]:
        return [e for e in self.events if isinstance(e, NoiseLine)]
