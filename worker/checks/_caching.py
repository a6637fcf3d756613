"""Shared prompt-caching check (5m and 1h TTL): a two-turn tool round over the same prefix.

Turn 1 must CREATE cache entries and turn 2 must READ them, seen from the CLI (its per-turn stream usage and the
summed result usage) and, in emulator mode, from the upstream: every request carried cache markers with the asked
TTL, the provider reported creation on turn 1 and a read on turn 2 (attempts it refused and the CLI retried are
not turns), and the gateway passed those numbers through unchanged. For 1h, the usage must report ephemeral_1h
tokens: a silent downgrade to 5m is a failure.
"""
from __future__ import annotations

import secrets

from ccmatrix.outcomes import TierResult
from worker.check import CheckContext, CliCheck
from worker.checks._client import client_bodies
from worker.checks._tools import BASH_PROMPT, TOOL_ROUND, judge_tool_round, locate_round, ran_tool_id

ENV = {"5m": {}, "1h": {"ENABLE_PROMPT_CACHING_1H": "1"}}


def _int(value) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def creation(usage: dict) -> int:
    return _int(usage.get("cache_creation_input_tokens"))


def read(usage: dict) -> int:
    return _int(usage.get("cache_read_input_tokens"))


def by_ttl(usage: dict, ttl: str) -> int:
    return _int((usage.get("cache_creation") or {}).get(f"ephemeral_{ttl}_input_tokens"))


def turn_usages(run) -> list[dict]:
    """Per model turn, the usage the CLI received: message_start usage updated by message_delta usage.

    Needs `--include-partial-messages`. Some gateways send cache figures only in message_delta (Converse),
    others only in message_start; merging both is what the CLI itself sums into the result usage.
    """
    turns: list[dict] = []
    for event in run.transcript.stream_events():
        kind = event.get("type")
        if kind == "message_start":
            turns.append(dict((event.get("message") or {}).get("usage") or {}))
        elif kind == "message_delta" and turns:
            turns[-1].update({k: v for k, v in (event.get("usage") or {}).items() if v is not None})
    return turns


def markers(request) -> list[str]:
    """TTLs of every cache marker in a universal request (tools, system, messages)."""
    parts = [*request.tools, *request.system, *(p for m in request.messages for p in m.parts)]
    return [p.cache.ttl for p in parts if p.cache is not None]


def judge_cli_usage(run, ttl: str, upstream_1h: int | None = None) -> str | None:
    """The CLI's view. `upstream_1h`: ephemeral_1h tokens the upstream reported (emulator mode), to tell a
    provider-side downgrade from a gateway that dropped the 5m/1h split on the way back."""
    turns = turn_usages(run)
    if len(turns) < 2:
        return f"expected two model turns in the CLI's stream, saw {len(turns)}"
    first, second = turns[0], turns[-1]
    if creation(first) <= 0:
        return f"turn 1 created no cache (cache_creation_input_tokens {creation(first)}, CLI view: {_brief(first)})"
    if read(second) <= 0:
        return (f"turn 2 did not read the cache turn 1 wrote (cache_read_input_tokens {read(second)}, "
                f"CLI view: {_brief(second)})")
    total = run.result.usage or {}
    if read(total) <= 0 or creation(total) <= 0:
        return f"the CLI's result usage reports no cache activity: {_brief(total)}"
    if ttl == "1h":
        one_hour, five_min = by_ttl(total, "1h"), by_ttl(total, "5m")
        if one_hour <= 0:
            if five_min > 0:
                return (f"1h TTL silently downgraded: the usage reports {five_min} ephemeral_5m and 0 ephemeral_1h "
                        "cache-creation tokens")
            if upstream_1h:
                return (f"the gateway dropped the 1h split: the upstream reported {upstream_1h} ephemeral_1h "
                        f"cache-creation tokens, the CLI's usage shows 0 (cache_creation "
                        f"{total.get('cache_creation')!r}, {creation(total)} created in total)")
            return (f"the usage reports no ephemeral_1h cache-creation tokens (cache_creation "
                    f"{total.get('cache_creation')!r}, {creation(total)} created in total)")
    return None


def client_ttls(ctx: CheckContext) -> set[str] | None:
    """The TTLs of every cache marker in the model calls the CLI sent the gateway (5m where a marker names none),
    from the recorder's capture of its requests; None when nothing was recorded."""
    if not any(c.get("method") == "POST" for c in ctx.client_reader()):
        return None
    ttls: set[str] = set()
    for body in client_bodies(ctx, model_calls_only=True):
        system = body.get("system") if isinstance(body.get("system"), list) else []
        blocks = [*(body.get("tools") or []), *system]
        for message in body.get("messages") or []:
            content = message.get("content") if isinstance(message, dict) else None
            blocks += content if isinstance(content, list) else []
        for block in blocks:
            marker = block.get("cache_control") if isinstance(block, dict) else None
            if isinstance(marker, dict):
                ttls.add(str(marker.get("ttl") or "5m"))
    return ttls


def cli_did_not_ask(ctx: CheckContext, ttl: str) -> str | None:
    """Why the row cannot test the gateway: the CLI itself asked for no cache entry with this TTL (a Claude Code
    without ENABLE_PROMPT_CACHING_1H — 2.1.42 honours only ENABLE_PROMPT_CACHING_1H_BEDROCK, in its own Bedrock mode;
    2.1.126 and later honour ENABLE_PROMPT_CACHING_1H; read from each CLI's bundle). None when it asked, or when the
    CLI's requests were not recorded."""
    if ttl == "5m":
        return None
    asked = client_ttls(ctx)
    if asked is None or ttl in asked:
        return None
    return (f"the CLI asked for no {ttl} cache entry (its requests carried cache markers with ttl "
            f"{sorted(asked) or 'none'}): this Claude Code does not ask for {ttl} through a gateway, so the row cannot "
            "tell whether the gateway keeps it")


def judge_upstream(ctx: CheckContext, run, ttl: str) -> str | None:
    # Turn 1 and turn 2 as the provider saw them (worker/checks/_tools.py locate_round): attempts it refused and the
    # CLI retried (e.g. a beta the platform does not accept) are not turns and create no cache.
    rnd = locate_round(ctx, ran_tool_id(run))
    if rnd.first is None or rnd.second is None:
        return rnd.missing_turn2() + "; the cache round trip needs turn 1 and turn 2"
    captures = rnd.calls
    for n, index in ((1, rnd.first), (2, rnd.second)):
        ttls = markers(rnd.requests[index])
        if not ttls:
            return (f"turn {n} ({rnd.call_label(index)}) carried no cache markers upstream (the gateway dropped "
                    "cache_control)")
        wrong = sorted({t for t in ttls if t != ttl})
        if wrong:
            return (f"turn {n} ({rnd.call_label(index)}) carried cache markers with ttl {wrong} upstream, expected "
                    f"{ttl} on all {len(ttls)}")
    turn1, turn2 = ctx.response_usage(captures[rnd.first]), ctx.response_usage(captures[rnd.second])
    if creation(turn1) <= 0:
        return f"the upstream reported no cache creation on turn 1: {_brief(turn1)}"
    if read(turn2) <= 0:
        return f"the upstream reported no cache read on turn 2: {_brief(turn2)}"
    if ttl == "1h" and by_ttl(turn1, "1h") <= 0:
        return f"the upstream created no 1h cache entries on turn 1: {_brief(turn1)}"
    # The gateway must pass the provider's figures through: the CLI's summed usage equals the upstream's (over every
    # call: a refused one reported nothing).
    usages = [ctx.response_usage(c) for c in captures]
    total = run.result.usage or {}
    sums = {"cache_read_input_tokens": sum(read(u) for u in usages),
            "cache_creation_input_tokens": sum(creation(u) for u in usages)}
    if ttl == "1h":
        sums["ephemeral_1h_input_tokens"] = sum(by_ttl(u, "1h") for u in usages)
    seen = {"cache_read_input_tokens": read(total), "cache_creation_input_tokens": creation(total),
            "ephemeral_1h_input_tokens": by_ttl(total, "1h")}
    wrong = {k: (seen[k], v) for k, v in sums.items() if seen[k] != v}
    if wrong:
        return "the CLI's usage differs from what the upstream reported: " + ", ".join(
            f"{k} {cli} at the CLI vs {up} upstream" for k, (cli, up) in wrong.items())
    return None


def _brief(usage: dict) -> dict:
    keep = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "cache_creation")
    return {k: usage[k] for k in keep if k in usage}


CACHED = "turn 1 created cache entries and turn 2 read them, as the provider's usage reached the CLI (with the asked TTL)"


class PromptCaching(CliCheck):
    ttl = "5m"
    decisive = (TOOL_ROUND, CACHED)

    def run(self, ctx: CheckContext) -> TierResult:
        word = "cache" + secrets.token_hex(4)  # a unique prompt: turn 1 must create, not find an old entry
        args = ["--allowedTools", f"Bash(echo {word})", "--include-partial-messages"]
        run = ctx.run_cli(BASH_PROMPT.format(word=word), args=args, env=dict(ENV[self.ttl]))
        early = ctx.classify(run)
        if early is not None:
            return early
        unasked = cli_did_not_ask(ctx, self.ttl)
        if unasked:
            return TierResult.not_tested(unasked, cause="client", duration_ms=run.duration_ms)
        upstream_1h = (sum(by_ttl(ctx.response_usage(c), "1h") for c in ctx.model_calls())
                       if ctx.sees_upstream else None)
        problem = judge_tool_round(ctx, run, word)
        if not problem:
            # The CLI's view and the provider's are both judged: a red tier names the symptom the CLI saw and the
            # cause upstream (e.g. 1h markers that reached the provider as 5m), not only the first one checked.
            seen = judge_cli_usage(run, self.ttl, upstream_1h)
            if not seen:
                ctx.asserted(CACHED)
            upstream = None
            if ctx.supporting("cache markers with the asked TTL reached the provider, and its usage passed through "
                              "unchanged"):
                upstream = judge_upstream(ctx, run, self.ttl)
            problem = "; ".join(p for p in (seen, upstream) if p) or None
        extra = {"turn_usage": [_brief(u) for u in turn_usages(run)]}
        if ctx.sees_upstream:
            extra["upstream_usage"] = [_brief(ctx.response_usage(c)) for c in ctx.model_calls()]
        return ctx.failed(run, problem, **extra) if problem else ctx.passed(run, **extra)
