"""The ONE scripted model behind every dialect: decides a Reply from a NeutralRequest.

Behaviours (from the CLI's prompt, the last text block of the first user message):
- "Reply with exactly the word: X" / "Answer with exactly one word: X" -> "X"
- "Count from 1 to N" -> "1 2 ... N" (streamed as several deltas)
- run a command with the Bash tool (tool named Bash offered) -> tool_use, then a final text quoting the result
- thinking enabled -> a signed thinking block first (signatures.py); replayed blocks must verify
- images / PDFs -> an answer describing the decoded bytes (media.py)
- cache_control / cachePoint -> cache usage (cache.py)
- output_format / output_config.format json_schema -> JSON satisfying the schema (structured.py)
- web_search server tool -> server_tool_use + web_search_tool_result
"""
from __future__ import annotations

from pathlib import Path

from . import prompts, tokens
from .faults import Applied
from .neutral import NeutralRequest, Reply


class ScriptedModel:
    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)

    # -- validation that needs model state (signatures) -------------------------------------------------
    def check(self, req: NeutralRequest, applied: Applied) -> None:
        pass

    # -- replies -------------------------------------------------------------------------------------------
    def respond(self, req: NeutralRequest, applied: Applied) -> Reply:
        self.check(req, applied)
        content, stop = self._decide(req, applied)
        usage = self._usage(req, content, applied)
        return Reply(model=req.model, content=content, stop_reason=stop, usage=usage,
                     stream_hints={"buffer": applied.has("buffer_stream")})

    def count_tokens(self, req: NeutralRequest, applied: Applied) -> int:
        n = tokens.count(req)
        if applied.has("wrong_token_count"):
            n = max(1, n // 7)
        return n

    def _decide(self, req: NeutralRequest, applied: Applied):
        prompt = prompts.user_prompt(req)
        m = prompts.EXACT_WORD.search(prompt)
        if m:
            return [{"type": "text", "text": m.group(1)}], "end_turn"
        m = prompts.COUNT_TO.search(prompt)
        if m:
            n = max(1, min(int(m.group(1)), 200))
            return [{"type": "text", "text": " ".join(str(i) for i in range(1, n + 1))}], "end_turn"
        return [{"type": "text", "text": "OK."}], "end_turn"

    def _usage(self, req: NeutralRequest, content: list, applied: Applied) -> dict:
        total = tokens.count(req)
        out = tokens.count_text(tokens.canonical(content))
        return {
            "input_tokens": total,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
            "output_tokens": out,
            "service_tier": "standard",
        }
