"""Reading the CLI's prompt out of a universal request (its system prompt and <system-reminder> blocks ignored)."""
from __future__ import annotations

import json
import re

from providers._wire.universal import Part, UniversalRequest


def _texts(parts: list[Part]) -> list[str]:
    return [p.text or "" for p in parts
            if p.kind == "text" and not (p.text or "").lstrip().startswith("<system-reminder>")]


def user_prompt(req: UniversalRequest) -> str:
    """The LAST text part of the first user message."""
    for m in req.messages:
        if m.role == "user":
            texts = _texts(m.parts)
            return texts[-1] if texts else ""
    return ""


def last_tool_results(req: UniversalRequest) -> list[Part]:
    """tool_result parts of the last user message (empty when the last turn is not a tool round)."""
    if not req.messages or req.messages[-1].role != "user":
        return []
    return [p for p in req.messages[-1].parts if p.kind == "tool_result"]


def tool_result_text(result: Part) -> str:
    """A tool result's text (a Converse JSON result as its JSON text)."""
    parts = []
    for p in result.content or []:
        if p.kind == "text":
            parts.append(p.text or "")
        elif p.kind == "json":
            parts.append(json.dumps(p.input))
    return "\n".join(parts)


EXACT_WORD = re.compile(r"(?:reply|answer|respond)\s+with\s+exactly\s+(?:the|one|this|a)?\s*word\s*[:\-]?\s*[\"'`]?([^\s\"'`.,!]+)", re.I)
COUNT_TO = re.compile(r"count\s+from\s+1\s+to\s+(\d+)", re.I)
BASH_CMD = re.compile(r"bash\b.*?`([^`]+)`", re.I | re.S)
