"""The scripted model on what Claude Code 2.1.332 sends (captured through LiteLLM 1.108.7, trimmed).

1. WebSearch is a deferred tool: it is not in `tools`; a mid-conversation system message names it ("The following
   deferred tools are now available via ToolSearch ... Use ToolSearch with query "select:<name>" ..."), and the CLI
   offers a client `ToolSearch` tool plus a `DeferredToolPlaceholder` with `defer_loading: true`. The model loads it
   (ToolSearch select:WebSearch); the CLI answers with a `tool_reference` and adds WebSearch to `tools`
   (`defer_loading: true`); the model then calls WebSearch.
2. Bedrock Converse (claude-haiku-5-5): LiteLLM puts the tool result in its own user turn, then a filler assistant
   turn "Please continue." (modify_params), then the converted mid-conversation system message as a user turn of
   context only. The model answers the tool result (it used to re-issue the Bash call until the loop bound).
"""
from __future__ import annotations

import pytest

from emulator.faults import Applied
from emulator.model import ScriptedModel
from providers import registry
from providers._wire import converse, messages
from providers._wire.universal import Envelope

MODEL = "claude-sonnet-5-5"
TOPIC = "ccmatrix gateway fead73"
REMINDER = ("<system-reminder>\nAttribution for git commits and pull requests you create from here on ...\n"
            "</system-reminder>\n")
ENV = ("# Environment\nYou have been invoked in the following environment: \n - Primary working directory: /tmp/p\n"
       " - Platform: linux\n\nYou are powered by the model named Sonnet 5.5.\n\n"
       "The following deferred tools are now available via ToolSearch. Their schemas are NOT loaded \u2014 calling "
       "them directly will fail with InputValidationError. Use ToolSearch with query \"select:<name>[,<name>...]\" "
       "to load tool schemas before calling them:\nCronCreate\nCronDelete\nMonitor\nNotebookEdit\nWebFetch\n"
       "WebSearch\n\nAvailable agent types for the Agent tool:\n- claude: Catch-all ...\n\nToday's date is 2026-11-29.")
BASH = {"name": "Bash", "description": "Executes a given bash command",
        "input_schema": {"type": "object", "properties": {"command": {"type": "string"},
                                                          "description": {"type": "string"}},
                         "required": ["command"]}}
TOOL_SEARCH = {"name": "ToolSearch",
               "description": "Fetches full schema definitions for deferred tools so they can be called.",
               "input_schema": {"type": "object", "properties": {"query": {"type": "string"},
                                                                 "max_results": {"type": "number"}},
                                "required": ["query"], "additionalProperties": False}}
PLACEHOLDER = {"name": "DeferredToolPlaceholder", "defer_loading": True,
               "description": "Reserved placeholder that keeps deferred tool loading active; never call this tool.",
               "input_schema": {"type": "object", "properties": {}}}
WEB_SEARCH = {"name": "WebSearch", "defer_loading": True, "description": "Allows Claude to search the web",
              "input_schema": {"type": "object", "properties": {"query": {"type": "string"}},
                               "required": ["query"]}}
SEARCH_CALL = {"type": "tool_use", "id": "toolu_emu_ts1", "name": "ToolSearch", "input": {"query": "select:WebSearch"}}
LOADED = {"role": "user", "content": [
    {"type": "tool_result", "tool_use_id": "toolu_emu_ts1",
     "content": [{"type": "tool_reference", "tool_name": "WebSearch"}]},
    {"type": "text", "text": "Tool loaded.", "cache_control": {"type": "ephemeral"}}]}


@pytest.fixture
def model(tmp_path, monkeypatch):
    monkeypatch.setattr("emulator.model.profiles.model_features", lambda provider, model: {})
    return ScriptedModel(tmp_path)


def answer(model, req):
    reply = model.respond(req, Applied(), provider=registry.ids()[0], model=MODEL)
    return reply, reply.summary()


def from_messages(msgs, tools):
    body = {"model": MODEL, "max_tokens": 128000, "tools": tools, "messages": msgs}
    return messages.decode_body(body, Envelope(format="messages", endpoint="messages", model=MODEL), [])


def first_turn():
    return [{"role": "user", "content": [{"type": "text", "text": REMINDER},
                                         {"type": "text", "text": f"Search the web for: {TOPIC}"}]},
            {"role": "system", "content": [{"type": "text", "text": ENV, "cache_control": {"type": "ephemeral"}}]}]


# ------------------------------------------------------------------ 1. a deferred WebSearch is loaded, then used
def test_a_deferred_web_search_is_loaded_through_tool_search_first(model):
    reply, summary = answer(model, from_messages(first_turn(), [BASH, TOOL_SEARCH, PLACEHOLDER]))
    assert reply.stop_reason == "tool_use"
    calls = [b for b in reply.content if b["type"] == "tool_use"]
    assert [(c["name"], c["input"]) for c in calls] == [("ToolSearch", {"query": "select:WebSearch"})]
    assert "repeat" not in summary


def test_once_the_tool_reference_loaded_it_the_model_calls_web_search(model):
    msgs = first_turn() + [{"role": "assistant", "content": [SEARCH_CALL]}, LOADED]
    reply, summary = answer(model, from_messages(msgs, [BASH, TOOL_SEARCH, WEB_SEARCH, PLACEHOLDER]))
    calls = [b for b in reply.content if b["type"] == "tool_use"]
    assert [(c["name"], c["input"]) for c in calls] == [("WebSearch", {"query": TOPIC})]
    assert "repeat" not in summary


def test_a_deferred_tool_no_tool_reference_loaded_is_not_called_directly(model):
    # defer_loading: "tool will not be included in initial system prompt. Only loaded when returned via
    # tool_reference from tool search" (anthropic SDK, BetaToolParam)
    reply, _ = answer(model, from_messages(first_turn(), [BASH, TOOL_SEARCH, WEB_SEARCH, PLACEHOLDER]))
    calls = [b for b in reply.content if b["type"] == "tool_use"]
    assert [c["name"] for c in calls] == ["ToolSearch"]


def test_the_web_search_result_is_answered(model):
    msgs = first_turn() + [
        {"role": "assistant", "content": [SEARCH_CALL]}, LOADED,
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_emu_ws1", "name": "WebSearch",
                                           "input": {"query": TOPIC}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_emu_ws1",
                                      "content": f"Web search results for query: \"{TOPIC}\"\n\nLinks: "
                                                 "[{\"url\":\"https://example.com/search/1\"}]"}]}]
    reply, _ = answer(model, from_messages(msgs, [BASH, TOOL_SEARCH, WEB_SEARCH, PLACEHOLDER]))
    assert reply.stop_reason == "end_turn"
    assert "https://example.com/search/1" in [b for b in reply.content if b["type"] == "text"][0]["text"]


# ------------------------------------------------------------------ 2. Converse: tool result, filler, converted system
PROMPT = "Use the Bash tool to run the command `echo ponged80ea` and then tell me exactly what it printed."
NOTE = "Operator note (not from the user): the following was originally a mid-conversation system-role reminder."
BUDGET = "<total_tokens>14987214 tokens left</total_tokens>"
BASH_INPUT = {"command": "echo ponged80ea", "description": "Run echo"}


def from_converse(msgs):
    tc = {"tools": [{"toolSpec": {"name": "Bash", "description": "run",
                                  "inputSchema": {"json": BASH["input_schema"]}}}]}
    body = {"messages": msgs, "toolConfig": tc, "inferenceConfig": {"maxTokens": 128000}}
    return converse.decode_body(body, Envelope(format="converse", endpoint="converse", model=MODEL))


def converse_round():
    return [
        {"role": "user", "content": [{"text": REMINDER}, {"text": PROMPT}, {"text": NOTE},
                                     {"text": "# Environment\nYou have been invoked ...\n\n"
                                              "<total_tokens>15000000 tokens left</total_tokens>"},
                                     {"cachePoint": {"type": "default"}}]},
        {"role": "assistant", "content": [{"toolUse": {"input": BASH_INPUT, "name": "Bash", "toolUseId": "t1"}}]},
        {"role": "user", "content": [{"toolResult": {"content": [{"text": "ponged80ea"}], "toolUseId": "t1"}}]},
        {"role": "assistant", "content": [{"text": "Please continue."}]},
        {"role": "user", "content": [{"text": NOTE}, {"text": BUDGET}, {"cachePoint": {"type": "default"}}]},
    ]


def test_converse_answers_the_tool_result_before_the_filler_and_the_converted_system_turn(model):
    reply, summary = answer(model, from_converse(converse_round()))
    assert reply.stop_reason == "end_turn"
    assert reply.content[-1]["text"] == "The command printed: ponged80ea"
    assert "repeat" not in summary


def test_messages_reads_the_same_shape_the_same_way(model):
    msgs = [{"role": "user", "content": PROMPT},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Bash", "input": BASH_INPUT}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ponged80ea"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "Please continue."}]},
            {"role": "user", "content": [{"type": "text", "text": NOTE}, {"type": "text", "text": BUDGET}]}]
    reply, summary = answer(model, from_messages(msgs, [BASH]))
    assert reply.content[-1]["text"] == "The command printed: ponged80ea" and "repeat" not in summary


def test_a_filler_after_the_prompt_still_leads_to_the_tool_call(model):
    msgs = [{"role": "user", "content": [{"text": PROMPT}]},
            {"role": "assistant", "content": [{"text": "Please continue."}]},
            {"role": "user", "content": [{"text": NOTE}, {"text": BUDGET}]}]
    reply, _ = answer(model, from_converse(msgs))
    assert reply.stop_reason == "tool_use" and reply.content[-1]["input"]["command"] == "echo ponged80ea"


def test_a_new_user_request_after_a_finished_round_is_not_answered_with_the_old_result(model):
    msgs = converse_round()[:3] + [
        {"role": "assistant", "content": [{"text": "The command printed: ponged80ea"}]},
        {"role": "user", "content": [{"text": "Reply with exactly the word: done"}]}]
    reply, _ = answer(model, from_converse(msgs))
    assert not any("ponged80ea" in (b.get("text") or "") for b in reply.content if b["type"] == "text")
