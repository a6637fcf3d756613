"""The scripted model reads a conversation as the model does: mid-conversation system messages (and the user text a
gateway turns them into) are context; the turn to answer is the last user turn, tool results included. One reading
for every dialect: the Messages codec keeps `role: "system"`, the Converse codec carries the converted user text."""
from __future__ import annotations

import json

import pytest

from emulator.faults import Applied
from emulator.model import ScriptedModel
from providers._wire import converse, messages
from providers import registry
from providers._wire.universal import Envelope

MODEL = "claude-sonnet-4-5-20250929"
PROMPT = "Use the Bash tool to run the command `echo pong` and then tell me exactly what it printed."
REMINDER = "<system-reminder>\nAs you answer the user's questions, you can use the following context.\n</system-reminder>"
ENV = "# Environment\nYou have been invoked in the following environment:\n - Primary working directory: /tmp/x"
BUDGET = "<total_tokens>981234 tokens left</total_tokens>"
NOTE = "Operator note (not from the user): the following was originally a mid-conversation system-role reminder."
BASH = {"name": "Bash", "description": "Run a shell command",
        "input_schema": {"type": "object", "properties": {"command": {"type": "string"},
                                                          "description": {"type": "string"}},
                         "required": ["command"]}}
CALL = {"type": "tool_use", "id": "toolu_emu_1", "name": "Bash",
        "input": {"command": "echo pong", "description": "Run echo"}}


@pytest.fixture
def model(tmp_path, monkeypatch):
    # usage needs the model's feature profile (the catalogue); the reading under test does not
    monkeypatch.setattr("emulator.model.profiles.model_features", lambda provider, model: {})
    return ScriptedModel(tmp_path)


def answer(model, req):
    reply = model.respond(req, Applied(), provider=registry.ids()[0], model=MODEL)
    return reply, reply.summary()


def from_messages(msgs, **extra):
    body = {"model": MODEL, "max_tokens": 1024, "tools": [BASH], "messages": msgs, **extra}
    return messages.decode_body(body, Envelope(format="messages", endpoint="messages", model=MODEL), [])


def from_converse(msgs):
    tc = {"tools": [{"toolSpec": {"name": "Bash", "description": "run",
                                  "inputSchema": {"json": BASH["input_schema"]}}}]}
    return converse.decode_body({"messages": msgs, "toolConfig": tc},
                                Envelope(format="converse", endpoint="converse", model=MODEL))


def first_user():
    return {"role": "user", "content": [{"type": "text", "text": REMINDER}, {"type": "text", "text": PROMPT}]}


# ------------------------------------------------------------------ Messages: role "system" inside messages
def test_a_system_message_after_the_prompt_is_context(model):
    reply, _ = answer(model, from_messages([first_user(), {"role": "system", "content": ENV}]))
    assert reply.stop_reason == "tool_use"
    assert reply.content[0]["name"] == "Bash" and reply.content[0]["input"]["command"] == "echo pong"


def test_it_answers_the_tool_result_not_the_system_message_after_it(model):
    req = from_messages([
        first_user(),
        {"role": "system", "content": [{"type": "text", "text": ENV}]},
        {"role": "assistant", "content": [CALL]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": CALL["id"], "content": "pong\n"}]},
        {"role": "system", "content": BUDGET},
    ])
    assert req.messages[-1].role == "system"  # the codec keeps the role: the last entry is context
    reply, summary = answer(model, req)
    assert reply.stop_reason == "end_turn"
    assert [b["type"] for b in reply.content] == ["text"] and "pong" in reply.content[0]["text"]
    assert "repeat" not in summary


def test_thinking_reads_the_prompt_not_the_system_message(model):
    req = from_messages([first_user(), {"role": "system", "content": ENV}],
                        thinking={"type": "enabled", "budget_tokens": 2048}, max_tokens=4096)
    reply, _ = answer(model, req)
    assert reply.content[0]["type"] == "thinking" and "echo pong" in reply.content[0]["thinking"]


# ------------------------------------------------------------------ Converse: the same content as converted user text
def test_converse_reads_the_prompt_before_a_converted_system_message(model):
    req = from_converse([{"role": "user", "content": [{"text": REMINDER}, {"text": PROMPT}, {"text": NOTE},
                                                      {"text": ENV}]}])
    reply, _ = answer(model, req)
    assert reply.stop_reason == "tool_use" and reply.content[0]["input"]["command"] == "echo pong"


def test_converse_answers_the_tool_result_with_converted_system_text_after_it(model):
    req = from_converse([
        {"role": "user", "content": [{"text": PROMPT}, {"text": NOTE}, {"text": ENV}]},
        {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "Bash",
                                                       "input": CALL["input"]}}]},
        {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "pong"}]}},
                                     {"text": NOTE}, {"text": BUDGET}]},
    ])
    reply, summary = answer(model, req)
    assert reply.stop_reason == "end_turn" and "pong" in reply.content[0]["text"]
    assert "repeat" not in summary


def test_bare_cli_context_blocks_are_not_the_prompt(model):
    # a gateway that turned the system messages into user text without a note: the CLI's own blocks are context
    req = from_messages([{"role": "user", "content": [{"type": "text", "text": PROMPT},
                                                      {"type": "text", "text": ENV},
                                                      {"type": "text", "text": BUDGET}]}])
    reply, _ = answer(model, req)
    assert reply.content[0]["input"]["command"] == "echo pong"


# ------------------------------------------------------------------ a repeat it cannot progress on is tagged
def test_a_call_already_answered_is_tagged_as_a_repeat(model):
    req = from_messages([
        first_user(),
        {"role": "assistant", "content": [CALL]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": CALL["id"], "content": "pong"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "The command printed: pong"}]},
        {"role": "user", "content": "Thanks. Anything else?"},
    ])
    reply, summary = answer(model, req)
    assert reply.content[0]["type"] == "tool_use"  # the script asks again: it cannot progress
    assert "re-issued tool_use Bash" in summary["repeat"] and "messages.1" in summary["repeat"]
    assert json.loads(json.dumps(summary))  # the capture stores it as JSON


def test_a_fresh_call_is_not_a_repeat(model):
    _, summary = answer(model, from_messages([first_user()]))
    assert "repeat" not in summary


def test_the_reminder_the_cli_appends_to_a_tool_result_is_not_quoted_as_its_output(model):
    # measured with 2.1.332 on a 4.5 model: the reminder rides inside the tool_result, after the command's output
    for content in ([{"type": "text", "text": "pong\n"}, {"type": "text", "text": f"<system-reminder>\n{BUDGET}\n</system-reminder>"}],
                    f"pong\n\n<system-reminder>\n{BUDGET}\n</system-reminder>"):
        req = from_messages([
            first_user(),
            {"role": "assistant", "content": [CALL]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": CALL["id"], "content": content}]},
        ])
        reply, _ = answer(model, req)
        assert reply.content[0]["text"] == "The command printed: pong"
