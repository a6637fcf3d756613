"""Which upstream call is which turn of a tool round (worker/checks/_tools.py locate_round), on fabricated
captures: the provider's refusals of turn 1 that the CLI retried are not turns (Claude Code 2.1.332 in its native
Bedrock/Vertex mode retries turn 1 without the betas the platform refuses), and a turn 2 without the tool_result is
named exactly. The same turns are what the thinking replay and the cache round trip judge."""
from __future__ import annotations

import json
from pathlib import Path

from ccmatrix.manifest import Provider
from worker.check import CheckContext
from worker.checks import _caching
from worker.checks._tools import TOOL_ROUND, describe_messages, judge_tool_round, locate_round
from worker.checks.thinking_with_tool_use import ThinkingWithToolUse
from worker.stream_json import Transcript, parse

WORD = "pong1a2b3c"
TOOL_ID = "toolu_emu_0123456789abcdef"
SIGNATURE = "RU1VMYMBf93sZvPje2jzeZHAo2DBRFojmHFxrDa"
VERTEX_PATH = "/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-5-5:streamRawPredict"
PROMPT = f"Use the Bash tool to run the command `echo {WORD}` and then tell me exactly what it printed."
USAGE_1 = {"input_tokens": 0, "cache_creation_input_tokens": 12000, "cache_read_input_tokens": 0,
           "cache_creation": {"ephemeral_5m_input_tokens": 12000, "ephemeral_1h_input_tokens": 0}, "output_tokens": 9}
USAGE_2 = {"input_tokens": 40, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 12000,
           "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0}, "output_tokens": 9}

MARK = {"type": "ephemeral"}
USER = {"role": "user", "content": [{"type": "text", "text": "<system-reminder>x</system-reminder>"},
                                    {"type": "text", "text": PROMPT, "cache_control": MARK}]}
MID_SYSTEM = {"role": "system", "content": [{"type": "text", "text": "# Environment\nYou have been invoked..."}]}
THINKING = {"type": "thinking", "thinking": "I will run it.", "signature": SIGNATURE}
TOOL_USE = {"type": "tool_use", "id": TOOL_ID, "name": "Bash", "input": {"command": f"echo {WORD}"}}
ASSISTANT = {"role": "assistant", "content": [THINKING, TOOL_USE]}
RESULT = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": TOOL_ID, "content": WORD,
                                       "is_error": False, "cache_control": MARK}]}


def capture(messages, status=200, response=None, betas="claude-code-20250219,interleaved-thinking-2025-05-14",
            reason=None):
    return {"method": "POST", "path": VERTEX_PATH, "operation": "messages", "status": status,
            "cause": "ok" if status == 200 else "refused", "cause_reason": reason, "stream": True,
            "headers": {"anthropic-beta": betas, "content-type": "application/json"},
            "body": {"anthropic_version": "vertex-2023-10-16", "max_tokens": 128000, "stream": True,
                     "thinking": {"type": "adaptive"}, "system": [{"type": "text", "text": "You are Claude Code."}],
                     "messages": messages},
            "response": response}


REFUSED = capture([USER, MID_SYSTEM], status=400, betas="claude-code-20250219,thinking-token-count-2026-05-13",
                  reason="Unexpected value(s) `thinking-token-count-2026-05-13` for the `anthropic-beta` header.")
TURN_1 = capture([USER, MID_SYSTEM], response={"content": [THINKING, TOOL_USE], "stop_reason": "tool_use",
                                               "usage": USAGE_1})
TURN_2 = capture([USER, MID_SYSTEM, ASSISTANT, RESULT],
                 response={"content": [{"type": "text", "text": f"It printed {WORD}"}], "stop_reason": "end_turn",
                           "usage": USAGE_2})


class Sandbox:
    def egress_attempts(self, since):
        return []


def ctx(captures, emulated=True):
    return CheckContext(feature=None, provider=Provider(id="vertex_passthrough", name="Vertex AI (pass-through)",
                                                        route="vertex_passthrough"),
                        tier="sonnet", model="claude-sonnet-5-5-vertex-passthrough", job_id="j", settings=None,
                        emulated=emulated, claude_binary=Path("/bin/true"), proxy_url="", proxy_key="k",
                        sandbox=Sandbox(), upstream_reader=lambda: list(captures), set_faults=lambda f: None)


class Run:
    """What the CLI printed for a tool round that worked, seen from the CLI."""

    def __init__(self, usage=None):
        lines = [
            {"type": "assistant", "message": {"id": "m1", "role": "assistant", "content": [THINKING]}},
            {"type": "assistant", "message": {"id": "m1", "role": "assistant", "content": [TOOL_USE]}},
            {"type": "user", "message": {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": TOOL_ID, "content": WORD}]}},
            {"type": "assistant", "message": {"id": "m2", "role": "assistant", "content": [
                {"type": "text", "text": f"It printed {WORD}"}]}},
            {"type": "result", "subtype": "success", "is_error": False, "num_turns": 2,
             "result": f"It printed {WORD}", "usage": usage or {}},
        ]
        self.transcript = Transcript(parse("\n".join(json.dumps(x) for x in lines)))

    @property
    def result(self):
        return self.transcript.result


# --- locating the turns --------------------------------------------------------------------------------------------

def test_refused_attempts_before_turn_one_are_not_turns():
    rnd = locate_round(ctx([REFUSED, REFUSED, TURN_1, TURN_2]), TOOL_ID)
    assert (rnd.first, rnd.second) == (2, 3)
    assert rnd.summary() == "400 refused, 400 refused, 200 ok (turn 1), 200 ok (turn 2)"


def test_the_plain_round_is_calls_one_and_two():
    rnd = locate_round(ctx([TURN_1, TURN_2]), TOOL_ID)
    assert (rnd.first, rnd.second) == (0, 1)


def test_a_call_between_the_turns_without_a_tool_result_is_skipped():
    side = capture([{"role": "user", "content": [{"type": "text", "text": "Give this conversation a title"}]}],
                   response={"content": [{"type": "text", "text": "Echo"}], "stop_reason": "end_turn", "usage": {}})
    rnd = locate_round(ctx([TURN_1, side, TURN_2]), TOOL_ID)
    assert (rnd.first, rnd.second) == (0, 2)


def test_a_gateway_that_rewrites_tool_ids_still_finds_turn_one():
    rnd = locate_round(ctx([REFUSED, TURN_1, TURN_2]), "toolu_bdrk_renamed")
    assert (rnd.first, rnd.second) == (1, 2)


def test_messages_are_described_by_role_and_part_kinds():
    request = ctx([TURN_2]).upstream_requests()[0]
    assert describe_messages(request) == "user[text×2] · system[text] · assistant[reasoning, tool_use] · user[tool_result]"


# --- judge_tool_round ----------------------------------------------------------------------------------------------

def test_the_round_passes_when_turn_one_was_refused_and_retried_first():
    c = ctx([REFUSED, REFUSED, TURN_1, TURN_2])
    assert judge_tool_round(c, Run(), WORD) is None
    assert c.ran == [TOOL_ROUND]


def test_a_turn_two_without_the_tool_result_is_named_exactly():
    dropped = capture([USER, MID_SYSTEM, ASSISTANT, {"role": "user", "content": [{"type": "text", "text": "go on"}]}])
    problem = judge_tool_round(ctx([REFUSED, TURN_1, dropped]), Run(), WORD)
    assert problem == ("turn 2 reached the upstream without the tool_result (model call 3 of 3, 200): its messages "
                       "were user[text×2] · system[text] · assistant[reasoning, tool_use] · user[text]")


def test_no_call_after_turn_one_is_said_so():
    problem = judge_tool_round(ctx([REFUSED, TURN_1]), Run(), WORD)
    assert problem.startswith("the upstream saw no model call after turn 1 (model call 2 of 2, 200)")
    assert "400 refused, 200 ok (turn 1)" in problem


def test_no_reply_with_a_tool_call_is_said_so():
    problem = judge_tool_round(ctx([REFUSED, REFUSED]), Run(), WORD)
    assert problem.startswith("no upstream reply issued a tool call (model calls: 400 refused, 400 refused)")


def test_a_tool_result_without_the_output_fails():
    empty = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": TOOL_ID, "content": "(no output)"}]}
    problem = judge_tool_round(ctx([TURN_1, capture([USER, ASSISTANT, empty])]), Run(), WORD)
    assert problem == f"turn 2 (model call 2 of 2, 200) carried a tool_result without the tool's output {WORD!r}"


def test_a_tool_result_without_its_tool_use_fails():
    lost = {"role": "assistant", "content": [THINKING, {"type": "text", "text": "running"}]}
    problem = judge_tool_round(ctx([TURN_1, capture([USER, lost, RESULT])]), Run(), WORD)
    assert problem.startswith("turn 2 (model call 2 of 2, 200) lost the assistant tool_use the tool_result answers")


def test_against_a_real_provider_the_upstream_part_is_skipped():
    c = ctx([], emulated=False)
    assert judge_tool_round(c, Run(), WORD) is None
    assert c.ran == [TOOL_ROUND] and c.skipped


# --- the thinking replay and the cache round trip judge the same turns ---------------------------------------------

def test_the_thinking_replay_is_judged_on_turn_one_and_turn_two():
    assert ThinkingWithToolUse._replay_problem(ctx([REFUSED, REFUSED, TURN_1, TURN_2]), Run()) is None


def test_a_replay_with_another_signature_fails():
    other = {"role": "assistant", "content": [{**THINKING, "signature": "X" * 40}, TOOL_USE]}
    problem = ThinkingWithToolUse._replay_problem(ctx([REFUSED, TURN_1, capture([USER, other, RESULT])]), Run())
    assert problem.startswith("turn 2 replayed the thinking block with a different signature")


def test_a_replay_without_the_thinking_block_names_turn_two():
    bare = {"role": "assistant", "content": [TOOL_USE]}
    problem = ThinkingWithToolUse._replay_problem(ctx([REFUSED, TURN_1, capture([USER, bare, RESULT])]), Run())
    assert problem == ("turn 2 (model call 3 of 3, 200) reached the upstream without the turn-1 thinking block: its "
                       "messages were user[text×2] · assistant[tool_use] · user[tool_result]")


def test_a_refused_turn_two_is_reported():
    refused_2 = {**TURN_2, "status": 400, "cause": "refused", "response": None, "error": "thinking block invalid"}
    problem = ThinkingWithToolUse._replay_problem(ctx([REFUSED, TURN_1, refused_2]), Run())
    assert problem == "the provider refused the replayed thinking block (400): thinking block invalid"


def test_the_cache_round_trip_is_judged_on_turn_one_and_turn_two():
    total = {"input_tokens": 40, "cache_creation_input_tokens": 12000, "cache_read_input_tokens": 12000,
             "cache_creation": {"ephemeral_5m_input_tokens": 12000, "ephemeral_1h_input_tokens": 0}}
    assert _caching.judge_upstream(ctx([REFUSED, REFUSED, TURN_1, TURN_2]), Run(total), "5m") is None


def test_no_cache_read_on_turn_two_names_turn_two():
    cold = {**TURN_2, "response": {**TURN_2["response"], "usage": {**USAGE_2, "cache_read_input_tokens": 0}}}
    problem = _caching.judge_upstream(ctx([REFUSED, TURN_1, cold]), Run(), "5m")
    assert problem.startswith("the upstream reported no cache read on turn 2")


def test_a_cache_round_trip_without_turn_two_says_what_happened():
    problem = _caching.judge_upstream(ctx([REFUSED, TURN_1]), Run(), "5m")
    assert problem.startswith("the upstream saw no model call after turn 1")
    assert problem.endswith("the cache round trip needs turn 1 and turn 2")
