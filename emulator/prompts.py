"""Reading the CLI's prompt out of a neutral request (its system prompt and <system-reminder> blocks ignored)."""
from __future__ import annotations

import re


def _texts(content) -> list[str]:
    out = []
    for b in content:
        if isinstance(b, dict) and b.get("type") == "text":
            t = b.get("text", "")
            if t.lstrip().startswith("<system-reminder>"):
                continue
            out.append(t)
    return out


def user_prompt(req) -> str:
    """The LAST text block of the first user message."""
    for m in req.messages:
        if m["role"] == "user":
            texts = _texts(m["content"])
            return texts[-1] if texts else ""
    return ""


def last_tool_results(req) -> list[dict]:
    """tool_result blocks of the last user message (empty when the last turn is not a tool round)."""
    if not req.messages or req.messages[-1]["role"] != "user":
        return []
    return [b for b in req.messages[-1]["content"] if isinstance(b, dict) and b.get("type") == "tool_result"]


def tool_result_text(block: dict) -> str:
    c = block.get("content")
    if isinstance(c, str):
        return c
    parts = []
    for b in c or []:
        if isinstance(b, dict) and b.get("type") == "text":
            parts.append(b.get("text", ""))
    return "\n".join(parts)


EXACT_WORD = re.compile(r"(?:reply|answer|respond)\s+with\s+exactly\s+(?:the|one|this|a)?\s*word\s*[:\-]?\s*[\"'`]?([^\s\"'`.,!]+)", re.I)
COUNT_TO = re.compile(r"count\s+from\s+1\s+to\s+(\d+)", re.I)
BASH_CMD = re.compile(r"bash\b.*?`([^`]+)`", re.I | re.S)
