"""The ONE scripted model behind every dialect: decides a Reply from a UniversalRequest.

How it reads a conversation (prompts.py, one path for every dialect): the turn to answer is the last user turn
(tool results included); mid-conversation `role: "system"` messages, the system prompt and <system-reminder>
blocks are context, never the turn to answer; the CLI's prompt = the last text block of the first user turn.

Behaviours:
- "Reply with exactly the word: X" / "Answer with exactly one word: X" -> "X"
- "Count from 1 to N" -> "1 2 ... N" (streamed as several deltas)
- "... Bash tool ... `cmd` ..." with a tool named Bash offered -> tool_use Bash {command, description};
  the request carrying its tool_result -> "The command printed: <output>"
- "Read <file.png|.pdf>" with a Read tool -> tool_use Read; images/PDFs (in the prompt or a tool_result) are
  decoded and described (media.py)
- thinking enabled -> a signed thinking block first; replayed blocks must verify (signatures.py)
- cache_control / cachePoint -> cache usage per TTL (cache.py)
- output_format json_schema -> JSON satisfying it; a StructuredOutput tool -> tool_use with a valid input
- a web_search server tool -> server_tool_use + web_search_tool_result + text; WebSearch client tool -> tool_use
- a tool_search_tool_* server tool with deferred tools -> server_tool_use + tool_search_tool_result (tool_reference
  to the best-matching deferred tool) + tool_use of that tool
- a client tool it wants that is deferred (named in a "deferred tools" context listing, or `defer_loading` in
  `tools` with no tool_reference loading it yet) and a client ToolSearch tool -> tool_use ToolSearch
  {"query": "select:<name>"}; the request carrying that result (a tool_reference) -> the tool's call itself
  (Claude Code 2.1.332 defers WebSearch this way)
- scenario {"reply_text": "..."} (POST /_emulator/jobs) overrides the plain text answer

A repeat it cannot progress on: when its script re-issues a client tool call (same tool, same input) that the
conversation already carries, answered, the reply is still given (as the script says) but tagged: the capture's
`response.repeat` names the call. A real model would have used the result; the emulator could not, so a model-call
loop made of such answers is the emulator's gap, not the gateway's (worker/check.py, the loop bound).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path

from providers._wire.universal import Message, Part, Reply, Tool, UniversalRequest

from . import media, prompts, profiles, structured, tokens
from .cache import PromptCache
from .errors import injected, invalid
from .faults import Applied
from .signatures import Signer

READ_FILE = re.compile(r"\bread\b.*?[`'\"]?(?P<path>[\w./~-]+\.(?:png|jpe?g|gif|webp|pdf))\b", re.I | re.S)
TOOL_SEARCH = "ToolSearch"  # Claude Code's client-side tool search (loads deferred tools' schemas)
SEARCH = re.compile(r"(?:search (?:the web|online|the internet)?\s*(?:for)?|web ?search[^:]*:?)\s*[:\"'`]?(?P<q>[^\"'`\n]+)", re.I)


@dataclasses.dataclass
class ScriptedReply(Reply):
    """A Reply that can say it repeats a call already answered (`repeat`, recorded in the capture's response)."""
    repeat: str | None = None

    def summary(self) -> dict:
        out = super().summary()
        if self.repeat:
            out["repeat"] = self.repeat
        return out


def _tool_id(prefix: str, *parts) -> str:
    return prefix + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:24]


class ScriptedModel:
    def __init__(self, data_dir: Path, scenario_ref=None):
        self.data_dir = Path(data_dir)
        self.signer = Signer(self.data_dir)
        self.cache = PromptCache()
        self.scenario_ref = scenario_ref or (lambda: {})

    # -- checks that need model state ------------------------------------------------------------------
    def check(self, req: UniversalRequest, applied: Applied | None = None) -> None:
        self.signer.check_messages(req, stripped=bool(applied and applied.has("strip_thinking")))
        media.validate_blocks(req)
        _check_tool_pairs(req)

    # -- entry points ------------------------------------------------------------------------------------
    def respond(self, req: UniversalRequest, applied: Applied, *, provider: str, model: str) -> Reply:
        """The answer of `model` (the Claude API name) on `provider` to `req`."""
        self.check(req, applied)
        content, stop = self._decide(req, applied)
        if thinking_on(req) and not applied.has("strip_thinking"):
            content = [self._thinking(req, applied, omitted=thinking_omitted(req, provider, model))] + content
        usage = self._usage(req, content, applied, provider, model)
        return ScriptedReply(model=model, content=content, stop_reason=stop, usage=usage,
                             stream_hints={"buffer": applied.has("buffer_stream")}, repeat=_repeat(req, content))

    def count_tokens(self, req: UniversalRequest, applied: Applied) -> int:
        media.validate_blocks(req)
        n = tokens.count(req)
        if applied.has("wrong_token_count"):
            n = max(1, n // 7)
        return n

    # -- decisions ---------------------------------------------------------------------------------------
    def _decide(self, req: UniversalRequest, applied: Applied):
        prompt = prompts.user_prompt(req)
        tool_names = {t.name: t for t in req.tools if t.kind == "custom"}
        server_types = {t.kind for t in req.tools}
        results = prompts.last_tool_results(req)
        allow_tools = not applied.has("no_tool_use")

        if results and not all(prompts.called_tool(req, r) == TOOL_SEARCH for r in results):
            return self._after_tools(req, results, applied), "end_turn"
        # (a ToolSearch result only loaded tools: the model goes on with what it was asked, the tools now offered)

        if any(t.startswith("web_search_") for t in server_types):
            if applied.has("refuse_web_search"):
                raise injected("tools.0: Input tag 'web_search_20250305' found using 'type' does not match any of the "
                               "expected tags", "mode refuse_web_search: the web_search server tool is refused")
            return self._web_search(req, prompt), "end_turn"

        searcher = next((t for t in req.tools if t.kind.startswith("tool_search_tool_")), None)
        deferred = {n: t for n, t in tool_names.items() if (t.extra or {}).get("defer_loading")}
        if searcher is not None and deferred and allow_tools:
            return self._tool_search(req, prompt, searcher, deferred), "tool_use"

        so_tool = next((n for n in tool_names if n and re.fullmatch(r"structured_?output", n, re.I)), None)
        choice = req.tool_choice.mode if req.tool_choice else None
        if so_tool and allow_tools and choice in (None, "auto", "any", "tool"):
            schema = tool_names[so_tool].input_schema or {}
            return [self._tool_use(so_tool, structured.instance(schema), req)], "tool_use"

        if req.output_format and req.output_format.type == "json_schema":
            value = structured.instance(req.output_format.schema_ or {})
            return [{"type": "text", "text": json.dumps(value)}], "end_turn"

        if allow_tools:
            loaded = prompts.loaded_tools(req)
            offered = {n: t for n, t in tool_names.items() if not (t.extra or {}).get("defer_loading") or n in loaded}
            hidden = [n for n, t in tool_names.items() if n not in offered]
            call = self._client_call(req, prompt, offered, hidden)
            if call is not None:
                return [call], "tool_use"

        attached = _attachments(prompts.last_turn(req))
        if attached:
            return [{"type": "text", "text": " ".join(media.describe(b, applied.has("corrupt_image")) for b in attached)}], "end_turn"

        override = (self.scenario_ref() or {}).get("reply_text")
        if override:
            return [{"type": "text", "text": str(override)}], "end_turn"
        m = prompts.EXACT_WORD.search(prompt)
        if m:
            return [{"type": "text", "text": m.group(1)}], "end_turn"
        m = prompts.COUNT_TO.search(prompt)
        if m:
            n = max(1, min(int(m.group(1)), 500))
            return [{"type": "text", "text": " ".join(str(i) for i in range(1, n + 1))}], "end_turn"
        return [{"type": "text", "text": "Done. I have read your request and there is nothing more to add."}], "end_turn"

    def _client_call(self, req, prompt: str, tool_names: dict[str, Tool], hidden: list[str]) -> dict | None:
        """The client tool call the prompt asks for (Bash `cmd`, Read <file>, a web search), or None.

        A tool the context lists as deferred (Claude Code 2.1.332: WebSearch, WebFetch, NotebookEdit... are named
        in a mid-conversation system message, not in `tools`) is loaded first, as that message instructs: a
        ToolSearch call with query "select:<name>" (the CLI's ToolSearch description: "Deferred tools appear by
        name in a message from the system. Until fetched, only the name is known — there is no parameter schema,
        so the tool cannot be invoked"). Measured with 2.1.332: the CLI answers it with a tool_result holding a
        `tool_reference` to the tool (+ text "Tool loaded.") and adds the tool to `tools` with `defer_loading: true`;
        from then on the tool is offered (`tool_names`) and the call is made. `hidden`: deferred tools in `tools`
        that no tool_reference loaded yet."""
        intents = []
        m = prompts.BASH_CMD.search(prompt)
        if m:
            cmd = m.group(1).strip()
            intents.append(("Bash", {"command": cmd, "description": f"Run {cmd.split()[0]}"}))
        m = READ_FILE.search(prompt)
        if m and not _attachments(prompts.last_turn(req)):
            intents.append(("Read", {"file_path": m.group("path")}))
        m = SEARCH.search(prompt)
        if m:
            intents.append(("WebSearch", {"query": m.group("q").strip()[:200]}))
        deferred = None
        for name, inp in intents:
            if name in tool_names:
                return self._tool_use(name, inp, req)
            if TOOL_SEARCH in tool_names:
                deferred = prompts.deferred_tools(req) + hidden if deferred is None else deferred
                if name in deferred:
                    return self._tool_use(TOOL_SEARCH, {"query": f"select:{name}"}, req)
        return None

    def _after_tools(self, req, results: list[Part], applied):
        parts = []
        for r in results:
            attached = [p for p in r.content or [] if p.kind in ("image", "document")]
            if attached:
                parts.extend(media.describe(p, applied.has("corrupt_image")) for p in attached)
                continue
            out = prompts.tool_result_text(r).strip()
            if r.is_error:
                parts.append(f"The tool failed: {out}")
            else:
                parts.append(f"The command printed: {out}")
        return [{"type": "text", "text": " ".join(parts) or "The tool returned nothing."}]

    def _web_search(self, req, prompt):
        m = re.search(r"query:\s*(.+)", prompt, re.I | re.S)
        query = (m.group(1) if m else prompt).strip().splitlines()[0][:200] if (m or prompt) else "emulator"
        sid = _tool_id("srvtoolu_emu_", query, len(req.messages))
        url = "https://example.com/search/" + hashlib.sha256(query.encode()).hexdigest()[:8]
        return [
            {"type": "server_tool_use", "id": sid, "name": "web_search", "input": {"query": query}},
            {"type": "web_search_tool_result", "tool_use_id": sid, "content": [
                {"type": "web_search_result", "url": url, "title": f"Result for {query}",
                 "encrypted_content": self.signer.sign(url), "page_age": "1 day ago"}]},
            {"type": "text", "text": f"According to {url}, the search for \"{query}\" found one result."},
        ]

    def _tool_search(self, req, prompt, searcher: Tool, deferred: dict[str, Tool]):
        """Tool search (advanced-tool-use beta): the model searches the deferred tools, the API answers with a
        `server_tool_use` (name tool_search_tool_regex|bm25), a `tool_search_tool_result` whose content is a
        `tool_search_tool_search_result` listing `tool_reference`s, and the model then calls the tool it found
        (anthropic SDK types BetaServerToolUseBlock, BetaToolSearchToolResultBlock,
        BetaToolSearchToolSearchResultBlock, BetaToolReferenceBlock; docs: "Tool search tool")."""
        words = [w.lower() for w in re.findall(r"[A-Za-z]{4,}", prompt)]

        def score(item):
            name, tool = item
            text = f"{name} {tool.description or ''}".lower().replace("_", " ")
            return sum(1 for w in words if w in text)

        name, tool = max(deferred.items(), key=score)
        kind = "tool_search_tool_bm25" if "bm25" in searcher.kind else "tool_search_tool_regex"
        keyword = next((w for w in words if w in name.lower()), name.split("_")[-1])
        query = {"query": keyword} if kind.endswith("bm25") else {"pattern": keyword}
        sid = _tool_id("srvtoolu_emu_", kind, keyword, len(req.messages))
        found = {"type": "tool_search_tool_search_result", "tool_references": [{"type": "tool_reference",
                                                                                 "tool_name": name}]}
        call = self._tool_use(name, structured.instance(tool.input_schema or {}), req)
        return [{"type": "server_tool_use", "id": sid, "name": kind, "input": query},
                {"type": "tool_search_tool_result", "tool_use_id": sid, "content": found}, call]

    def _tool_use(self, name, inp, req) -> dict:
        return {"type": "tool_use", "id": _tool_id("toolu_emu_", name, json.dumps(inp, sort_keys=True), len(req.messages)),
                "name": name, "input": inp}

    def _thinking(self, req, applied, omitted: bool = False) -> dict:
        prompt = prompts.user_prompt(req)
        text = (f"The user asked: {prompt[:120]!r}. Turn {len(req.messages)}: I will answer exactly as asked, "
                "checking each step before replying.")
        if omitted:  # signature only: the text stays with the provider (thinking_omitted)
            sig = self.signer.sign_omitted(text)
            return {"type": "thinking", "thinking": "", "signature": self.signer.tampered("") if
                    applied.has("tamper_signature") else sig}
        sig = self.signer.tampered(text) if applied.has("tamper_signature") else self.signer.sign(text)
        return {"type": "thinking", "thinking": text, "signature": sig}

    # -- usage -------------------------------------------------------------------------------------------
    def _usage(self, req: UniversalRequest, content: list, applied: Applied, provider: str, model: str) -> dict:
        total = tokens.count(req)
        feat = profiles.model_features(provider, model) or {}
        split = self.cache.account(req, total, feat.get("min_cache_tokens", 1024), provider=provider, model=model,
                                   downgrade_1h=applied.has("downgrade_ttl_1h"))
        if applied.has("drop_cache_usage"):
            split = {"input_tokens": total, "cache_read": 0, "cache_creation_5m": 0, "cache_creation_1h": 0}
        out = tokens.count_text(tokens.canonical(content))
        usage = {
            "input_tokens": split["input_tokens"],
            "cache_creation_input_tokens": split["cache_creation_5m"] + split["cache_creation_1h"],
            "cache_read_input_tokens": split["cache_read"],
            "cache_creation": {"ephemeral_5m_input_tokens": split["cache_creation_5m"],
                               "ephemeral_1h_input_tokens": split["cache_creation_1h"]},
            "output_tokens": out,
            "service_tier": "standard",
        }
        searches = sum(1 for b in content if b.get("type") == "server_tool_use" and b.get("name") == "web_search")
        if searches:
            usage["server_tool_use"] = {"web_search_requests": searches}
        if applied.has("drop_usage"):
            usage["input_tokens"] = usage["output_tokens"] = 0
        return usage


def thinking_on(req: UniversalRequest) -> bool:
    return bool(req.reasoning) and req.reasoning.mode in ("enabled", "adaptive")


def thinking_omitted(req: UniversalRequest, provider: str, model: str) -> bool:
    """Whether the thinking block comes back signature-only (`"thinking": ""`): the request's `thinking.display`
    when it says (`omitted` / `summarized`: platform.claude.com extended-thinking "display"; Claude Code 2.1.332
    asks for `omitted` in every non-interactive session, its `Q6l` in the binary), else the model's default
    (emulator/catalog.yaml `signature_only_thinking`: display defaults to omitted from Opus 4.7 on)."""
    display = req.reasoning.display if req.reasoning else None
    if display:  # "summarized", "highlights", "updates" (2.1.332 asks for it with the thinking-display-updates beta
        return display == "omitted"  # in its connector-text mode) all show thinking text; only "omitted" hides it
    return bool((profiles.model_features(provider, model) or {}).get("signature_only_thinking"))


def _attachments(message: Message | None) -> list[Part]:
    if not message or message.role != "user":
        return []
    return [p for p in message.parts if p.kind in ("image", "document")]


def _repeat(req: UniversalRequest, content: list) -> str | None:
    """Why this answer is a repeat the script cannot progress on: a client tool call (name and input) the
    conversation already carries in an earlier assistant turn — answered, since _check_tool_pairs refuses a
    tool_use without its tool_result. None for a fresh answer."""
    last = prompts.last_turn(req)
    asked = {(p.name, json.dumps(p.input, sort_keys=True)): i for i, m in enumerate(req.messages)
             if m.role == "assistant" and m is not last for p in m.parts if p.kind == "tool_use"}
    for b in content:
        if b.get("type") != "tool_use":
            continue
        at = asked.get((b.get("name"), json.dumps(b.get("input"), sort_keys=True)))
        if at is not None:
            return (f"the scripted model re-issued tool_use {b.get('name')} {json.dumps(b.get('input'))[:200]}, "
                    f"already answered at messages.{at}: it cannot progress on this conversation")
    return None


def _check_tool_pairs(req: UniversalRequest) -> None:
    """tool_use ids must be answered by tool_result blocks in the very next user message, and vice versa."""
    msgs = req.messages
    for i, m in enumerate(msgs):
        if m.role != "user":
            continue
        results = [p.id for p in m.parts if p.kind == "tool_result"]
        prev = msgs[i - 1] if i > 0 else None
        uses = [p.id for p in prev.parts if p.kind == "tool_use"] if prev and prev.role == "assistant" else []
        stray = [r for r in results if r not in uses]
        if stray:
            raise invalid(f"messages.{i}.content.0: unexpected `tool_use_id` found in `tool_result` blocks: {stray[0]}. "
                          "Each `tool_result` block must have a corresponding `tool_use` block in the previous message.")
    for i, m in enumerate(msgs[:-1]):
        if m.role != "assistant":
            continue
        uses = [p.id for p in m.parts if p.kind == "tool_use"]
        nxt = {p.id for p in msgs[i + 1].parts if p.kind == "tool_result"}
        missing = [u for u in uses if u not in nxt]
        if missing:
            raise invalid(f"messages.{i + 1}: `tool_use` ids were found without `tool_result` blocks immediately after: "
                          f"{missing[0]}. Each `tool_use` block must have a corresponding `tool_result` block in the next message.")
