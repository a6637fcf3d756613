"""Reading a conversation out of a universal request the way the model does: which turn to answer, what the user
asked, and what is only context.

Context, never the turn to answer:
- the top-level system prompt;
- mid-conversation `role: "system"` messages inside `messages`. The anthropic SDK (2.14.0, installed) types them:
  `MessageParam = Union[UserMessageParam, AssistantMessageParam, SystemMessageParam]` (types/message_param.py;
  `SystemMessageParam`: `role: "system"`, `content: str | Iterable[TextBlockParam]`), and the beta form
  `BetaSystemMessageParam` (types/beta/beta_system_message_param.py: text blocks or tool addition/removal blocks,
  `clear_at: "next_user_message" | "never"`, a per-turn `output_config`). Anthropic's placement rules (quoted in
  maximhq/bifrost#3945; LiteLLM's litellm_core_utils/prompt_templates/mid_conversation_system.py follows them): it
  comes after a user turn, is the last entry or is followed by an assistant turn, never next to another system
  message. Claude Code (2.1.332, beta `mid-conversation-system-2026-04-07`) sends an `# Environment` block and
  `<total_tokens>N tokens left</total_tokens>` after each tool result this way — so the last entry of `messages`
  is often a system message, and the turn to answer is the user turn before it;
- the same content after a gateway had to turn it into user text for a model or wire without the role (the
  Converse API accepts only user/assistant roles): LiteLLM converts it in place into a user turn led by a note
  ("Operator note (not from the user): the following was originally a mid-conversation system-role reminder.",
  `CONVERTED_SYSTEM_NOTE` in the same module; Converse: llms/bedrock/chat/converse_transformation.py
  `_system_role_message_as_user`), which the codec's normalisation merges into the neighbouring user turn; other
  clients wrap it as a `<system-reminder>` (UKGovernmentBEIS/inspect_ai#4104), the form Claude Code itself uses
  for its reminders in the first user message;
- the CLI's own context blocks when they arrive as bare user text (`<system-reminder>`, `<total_tokens>`,
  `# Environment`);
- a user turn made only of such context (LiteLLM's Converse path, claude-haiku-5-5 with 2.1.332: the tool result in
  its own user turn, a filler assistant "Please continue.", then the converted system text as a user turn).

So every dialect reads the same way (one code path, whatever the wire): the turns are the user and assistant
messages that are not context; the turn to answer is the last user turn (tool results included), an assistant
turn of text alone after it (a gateway's filler) notwithstanding; the prompt is the last non-context text of the
first user turn.
"""
from __future__ import annotations

import json
import re

from providers._wire.universal import Message, Part, UniversalRequest

# A text part that is context by its own shape (the CLI's reminder/budget/environment blocks).
CONTEXT_TEXT = re.compile(r"^\s*(?:<system-reminder>|<total_tokens>|# Environment\b)")
# A reminder block inside a text (the CLI appends them to tool results).
REMINDER_BLOCK = re.compile(r"\s*<system-reminder>.*?</system-reminder>\s*", re.S)
# A gateway's note that the text parts after it (in the same message) were a system message it converted.
CONVERTED_SYSTEM = re.compile(r"originally a mid-conversation system", re.I)


def is_context(message: Message) -> bool:
    """Context for the next turn, never a turn of its own: a mid-conversation system message, or a user message
    that carries nothing of the user's (only a converted system message and the CLI's context blocks — a gateway
    that had to give the system text a user turn of its own, e.g. LiteLLM's Converse path after a tool result)."""
    if message.role == "system":
        return True
    return message.role == "user" and not _own_parts(message)


def _own_parts(message: Message) -> list[Part]:
    """The parts of a user message that are the user's (or the tools'): anything but context text."""
    own = [p for p in message.parts if p.kind not in ("text", "unknown")]
    return own + [Part(kind="text", text=t) for t in _texts(message.parts)]


def turns(req: UniversalRequest) -> list[Message]:
    """The conversation's turns (user and assistant messages), context messages left out."""
    return [m for m in req.messages if not is_context(m)]


def last_turn(req: UniversalRequest) -> Message | None:
    """The turn to answer: the last user or assistant message, whatever system messages follow it."""
    t = turns(req)
    return t[-1] if t else None


def _texts(parts: list[Part]) -> list[str]:
    """The user's own text parts: context-shaped parts dropped, and everything from a converted-system note on."""
    out = []
    for p in parts:
        if p.kind != "text":
            continue
        text = p.text or ""
        if CONVERTED_SYSTEM.search(text[:200]):
            break
        if not CONTEXT_TEXT.match(text):
            out.append(text)
    return out


def user_prompt(req: UniversalRequest) -> str:
    """The LAST text part of the first user turn that is the user's own (not context)."""
    for m in turns(req):
        if m.role == "user":
            texts = _texts(m.parts)
            return texts[-1] if texts else ""
    return ""


def last_tool_results(req: UniversalRequest) -> list[Part]:
    """tool_result parts of the turn to answer (empty when it is not a user turn answering a tool round).

    An assistant turn of text alone after the tool results does not close the round: it is the filler a gateway
    inserts to keep Converse's roles alternating (LiteLLM with `modify_params`: `_insert_assistant_continue_message`
    adds `{"role": "assistant", "content": [{"text": "Please continue."}]}` before the user turn it made of a system
    message — litellm_core_utils/prompt_templates/factory.py, BerriAI/litellm#6053), and the user turn after it is
    context only. The model still has the tool's output in front of it and nothing new asked: it answers with it."""
    for turn in reversed(turns(req)):
        if turn.role == "assistant":
            if any(p.kind == "tool_use" for p in turn.parts):
                return []
            continue
        return [p for p in turn.parts if p.kind == "tool_result"]
    return []


def loaded_tools(req: UniversalRequest) -> set[str]:
    """Tools a `tool_reference` in the conversation loaded (in a tool_result, or a server tool search's result).
    A `defer_loading` tool is invisible to the model until then (anthropic SDK types/beta/beta_tool_param.py:
    "defer_loading: If true, tool will not be included in initial system prompt. Only loaded when returned via
    tool_reference from tool search."; BetaToolResultBlockParam's content admits BetaToolReferenceBlockParam)."""
    names: set[str] = set()

    def walk(parts):
        for p in parts or []:
            if p.kind == "unknown" and p.type == "tool_reference" and p.raw:
                try:
                    names.add(json.loads(p.raw).get("tool_name"))
                except (ValueError, AttributeError):
                    pass
            elif p.kind == "unknown" and p.raw and "tool_reference" in p.raw:
                try:
                    found = json.loads(p.raw)
                except ValueError:
                    continue
                refs = (found.get("content") or {}).get("tool_references") if isinstance(found, dict) else None
                names.update(r.get("tool_name") for r in refs or [] if isinstance(r, dict))
            walk(p.content)

    for m in req.messages:
        walk(m.parts)
    names.discard(None)
    return names


def called_tool(req: UniversalRequest, result: Part) -> str | None:
    """The name of the tool call a tool_result answers (the tool_use with its id in an assistant turn)."""
    for m in req.messages:
        if m.role == "assistant":
            for p in m.parts:
                if p.kind == "tool_use" and p.id == result.id:
                    return p.name
    return None


def tool_result_text(result: Part) -> str:
    """A tool result's text (a Converse JSON result as its JSON text), the context the CLI appends to it left out
    (measured with 2.1.332: `<system-reminder><total_tokens>N tokens left</total_tokens></system-reminder>` after
    the command's output, which a model reads but never quotes as the output)."""
    parts = []
    for p in result.content or []:
        if p.kind == "text":
            text = REMINDER_BLOCK.sub("\n", p.text or "")
            if text.strip() and not CONTEXT_TEXT.match(text):
                parts.append(text)
        elif p.kind == "json":
            parts.append(json.dumps(p.input))
    return "\n".join(parts)


# Deferred tools named in context (Claude Code's client-side tool search): 2.1.332 lists them in a mid-conversation
# system message, "The following deferred tools are now available via ToolSearch. Their schemas are NOT loaded —
# calling them directly will fail with InputValidationError. Use ToolSearch with query "select:<name>[,<name>...]" to
# load tool schemas before calling them:" then one name a line; older releases wrapped the names in
# <available-deferred-tools> in a reminder. Only the names are known until ToolSearch returns their schemas.
DEFERRED_HEADING = re.compile(r"deferred tools[^\n]*\n|<available-deferred-tools>\s*\n?", re.I)
TOOL_NAME_LINE = re.compile(r"^[A-Za-z][\w.-]*$")


def _context_texts(req: UniversalRequest) -> list[str]:
    """Every text the model reads: the system prompt, system messages, user and assistant text."""
    texts = [p.text or "" for p in req.system if p.kind == "text"]
    texts += [p.text or "" for m in req.messages for p in m.parts if p.kind == "text"]
    return texts


def deferred_tools(req: UniversalRequest) -> list[str]:
    """Tool names the context says are deferred (callable once loaded through the client's ToolSearch tool)."""
    names: list[str] = []
    for text in _context_texts(req):
        for heading in DEFERRED_HEADING.finditer(text):
            for line in text[heading.end():].splitlines():
                line = line.strip()
                if not TOOL_NAME_LINE.match(line):
                    break
                if line not in names:
                    names.append(line)
    return names


EXACT_WORD = re.compile(r"(?:reply|answer|respond)\s+with\s+exactly\s+(?:the|one|this|a)?\s*word\s*[:\-]?\s*[\"'`]?([^\s\"'`.,!]+)", re.I)
COUNT_TO = re.compile(r"count\s+from\s+1\s+to\s+(\d+)", re.I)
BASH_CMD = re.compile(r"bash\b.*?`([^`]+)`", re.I | re.S)
