"""The neutral request/reply every dialect decodes into and encodes from (Anthropic-shaped blocks)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field


@dataclass
class NeutralRequest:
    provider: str
    model: str
    messages: list            # [{"role", "content": [blocks]}] (content always a list of Anthropic blocks)
    system: list = field(default_factory=list)   # Anthropic text blocks
    tools: list = field(default_factory=list)    # Anthropic tool dicts (custom tools with input_schema)
    tool_choice: dict | None = None
    thinking: dict | None = None                 # {"type": "enabled"|"adaptive", "budget_tokens"?}
    max_tokens: int = 1024
    stream: bool = False
    betas: list = field(default_factory=list)
    output_format: dict | None = None            # {"type": "json_schema", "schema": {...}}
    stop_sequences: list = field(default_factory=list)

    @property
    def thinking_on(self) -> bool:
        return bool(self.thinking) and self.thinking.get("type") in ("enabled", "adaptive")


@dataclass
class Reply:
    model: str
    content: list
    stop_reason: str
    usage: dict
    id: str = field(default_factory=lambda: "msg_emu_" + uuid.uuid4().hex[:24])
    stream_hints: dict = field(default_factory=dict)   # e.g. {"buffer": True}

    def neutral(self) -> dict:
        return {"content": self.content, "stop_reason": self.stop_reason, "usage": self.usage}

    def anthropic_json(self) -> dict:
        return {
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": self.content,
            "stop_reason": self.stop_reason,
            "stop_sequence": None,
            "usage": self.usage,
        }


def blocks(content) -> list:
    """Anthropic message content (str or list) as a list of blocks."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return list(content or [])
