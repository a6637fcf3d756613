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
  `# Environment`).

So every dialect reads the same way (one code path, whatever the wire): the turns are the user and assistant
messages; the turn to answer is the last of them (a user turn, tool results included); the prompt is the last
non-context text of the first user turn.
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
    """A mid-conversation system message: context for the next turn, never a turn of its own."""
    return message.role == "system"


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
    """tool_result parts of the turn to answer (empty when it is not a user turn answering a tool round)."""
    turn = last_turn(req)
    if turn is None or turn.role != "user":
        return []
    return [p for p in turn.parts if p.kind == "tool_result"]


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


EXACT_WORD = re.compile(r"(?:reply|answer|respond)\s+with\s+exactly\s+(?:the|one|this|a)?\s*word\s*[:\-]?\s*[\"'`]?([^\s\"'`.,!]+)", re.I)
COUNT_TO = re.compile(r"count\s+from\s+1\s+to\s+(\d+)", re.I)
BASH_CMD = re.compile(r"bash\b.*?`([^`]+)`", re.I | re.S)
