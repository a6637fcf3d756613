"""Planted regressions, expected differences, stale rules, and the rules file's own validation."""
from __future__ import annotations

import pytest

from fidelity import RuleSet, RulesError, compare, compare_run, decode, diff
from fidelity.diff import DiffRecord
from fidelity.rules import DEFAULT_RULES_PATH, compile_path
from fidelity_testkit import cli_body, client_capture, to_upstream


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return RuleSet.load()


def _unexpected(res):
    return [r for r in res.records if r.status == "unexpected"]


# ---------------------------------------------------------------------------------------------- planted regressions


@pytest.mark.parametrize("provider", ["anthropic", "bedrock_invoke", "bedrock_converse", "vertex_ai", "azure"])
def test_dropped_thinking_budget_is_unexpected(provider, rules):
    cap = client_capture(cli_body())
    up = to_upstream(cap, provider)
    if provider == "bedrock_converse":
        up["body"]["additionalModelRequestFields"]["thinking"].pop("budget_tokens")
    else:
        up["body"]["thinking"].pop("budget_tokens")
    res = compare(cap, up, provider, "sonnet", "1.106.2", rules)
    assert res.verdict == "unexpected"
    (rec,) = _unexpected(res)
    assert rec.path == "reasoning.budget_tokens" and rec.kind == "lost" and rec.before == 31999


@pytest.mark.parametrize("provider", ["anthropic", "bedrock_invoke", "bedrock_converse", "vertex_ai", "azure"])
def test_downgraded_cache_ttl_is_unexpected(provider, rules):
    cap = client_capture(cli_body(ttl="1h"))
    up = to_upstream(cap, provider)
    if provider == "bedrock_converse":
        [b for b in up["body"]["system"] if "cachePoint" in b][-1]["cachePoint"].pop("ttl")
    else:
        up["body"]["system"][-1]["cache_control"].pop("ttl")
    res = compare(cap, up, provider, "sonnet", "1.106.2", rules)
    (rec,) = _unexpected(res)
    assert rec.path == "system[2].cache.ttl" and rec.kind == "changed" and (rec.before, rec.after) == ("1h", "5m")


def test_dropped_cache_marker_in_a_later_turn_is_unexpected(rules):
    c1, c2 = client_capture(cli_body()), client_capture(cli_body(second_turn=True))
    u1, u2 = to_upstream(c1, "bedrock_converse"), to_upstream(c2, "bedrock_converse")
    last = u2["body"]["messages"][-1]["content"]
    assert "cachePoint" in last[-1]
    last.pop()
    res = compare_run([c1, c2], [u1, u2], "bedrock_converse", "sonnet", "1.106.2", rules)
    (rec,) = _unexpected(res)
    assert rec.path == "turn[1].messages[2].parts[1].cache.ttl" and rec.kind == "lost"


@pytest.mark.parametrize("provider", ["anthropic", "bedrock_invoke", "vertex_ai", "azure"])
def test_dropped_document_name_is_unexpected(provider, rules):
    cap = client_capture(cli_body(media=True))
    up = to_upstream(cap, provider)
    doc = [b for b in up["body"]["messages"][0]["content"] if b.get("type") == "document"][0]
    doc.pop("title")
    res = compare(cap, up, provider, "sonnet", "1.106.2", rules)
    (rec,) = _unexpected(res)
    assert rec.path == "messages[0].parts[4].title" and rec.kind == "lost" and rec.before == "report.pdf"


def test_renamed_converse_document_is_unexpected(rules):
    cap = client_capture(cli_body(media=True))
    up = to_upstream(cap, "bedrock_converse")
    doc = [b for b in up["body"]["messages"][0]["content"] if "document" in b][0]["document"]
    doc["name"] = "DocumentPDFmessages_d94647481f1d1b70_pdf"
    (rec,) = _unexpected(compare(cap, up, "bedrock_converse", "sonnet", "1.106.2", rules))
    assert rec.path == "messages[0].parts[4].title" and rec.kind == "changed"


def test_dropped_redacted_thinking_and_corrupted_image_are_unexpected(rules):
    body = cli_body(media=True, second_turn=True)
    body["messages"][1]["content"].insert(0, {"type": "redacted_thinking", "data": "ZW5jcnlwdGVk"})
    cap = client_capture(body)
    up = to_upstream(cap, "bedrock_converse")
    up["body"]["messages"][1]["content"].pop(0)  # redacted thinking dropped
    img = [b for b in up["body"]["messages"][0]["content"] if "image" in b][0]["image"]
    img["source"]["bytes"] = img["source"]["bytes"][:-8] + "AAAAAAA="
    res = compare(cap, up, "bedrock_converse", "sonnet", "1.106.2", rules)
    got = {(r.path, r.kind) for r in _unexpected(res)}
    assert got == {("messages[1].parts[0]", "lost"), ("messages[0].parts[3].sha256", "changed")}


def test_length_mismatch_does_not_stop_the_diff(rules):
    cap = client_capture(cli_body(second_turn=True))
    up = to_upstream(cap, "anthropic")
    up["body"]["messages"][0]["content"].pop(1)  # one system-reminder lost
    up["body"]["messages"][1]["content"][1]["text"] = "Running it!"  # and a later change
    up["body"]["tools"].pop()  # and a tool
    up["body"]["max_tokens"] = 1000
    got = {(r.path, r.kind) for r in _unexpected(compare(cap, up, "anthropic", "sonnet", "1.106.2", rules))}
    assert got == {
        ("messages[0].parts[1]", "lost"),
        ("messages[1].parts[1].text", "changed"),
        ("tools[ScheduleWakeup]", "lost"),
        ("sampling.max_tokens", "changed"),
    }


def test_messages_align_by_position_within_role():
    a = decode(client_capture(cli_body(second_turn=True)), "anthropic")
    b = a.model_copy(update={"messages": [a.messages[0], a.messages[2]]})  # the assistant turn vanished
    # user ↔ user by position within role: only the assistant message is reported
    assert [(r.path, r.kind) for r in diff(a, b)] == [("messages[1]", "lost")]
    # normalised (adjacent user messages merged), the second user message's parts move into the first
    paths = {(r.path, r.kind) for r in diff(a, b.normalised())}
    assert ("messages[1]", "lost") in paths and ("messages[2]", "lost") in paths
    assert ("messages[0].parts[4]", "added") in paths and ("messages[0].parts[5]", "added") in paths


# ---------------------------------------------------------------------------------------------- expected / stale


def test_expected_difference_carries_rule_id_and_reason(rules):
    cap = client_capture(cli_body())
    res = compare(cap, to_upstream(cap, "bedrock_converse"), "bedrock_converse", "sonnet", "1.106.2", rules)
    assert res.verdict == "expected-only"
    (md,) = [r for r in res.records if r.path == "metadata.user_id"]
    assert md.status == "expected" and md.rule == "converse-no-metadata" and "no metadata" in md.reason
    assert md.rule_class == "by-design"
    assert "converse-no-metadata" in res.matched_rules


def test_stale_rules_reported(rules):
    matched: set[str] = set()
    for provider in ["anthropic", "bedrock_invoke", "bedrock_converse", "vertex_ai", "azure"]:
        cap = client_capture(cli_body())
        matched |= set(compare(cap, to_upstream(cap, provider), provider, "sonnet", "1.106.2", rules).matched_rules)
    stale = rules.stale(matched)
    assert "azure-beta-effort-dropped" in stale  # an Opus-only rule: nothing matched it in a Sonnet run
    assert "model-alias-to-deployment-id" not in stale and "billing-block-stripped" not in stale
    # only rules that could apply to what was run; of those, only the ones a CLI turn cannot exercise (direct
    # count_tokens / stream-less requests) may stay unmatched
    assert set(rules.stale(matched, providers=["anthropic"])) <= {"stream-flag-made-explicit", "count-tokens-beta-added"}


def test_a_rule_that_matches_nothing_is_stale():
    rs = RuleSet.from_yaml("""
rules:
  - id: never
    provider: anthropic
    path: sampling.top_k
    kinds: [lost]
    class: by-design
    reason: planted
""")
    cap = client_capture(cli_body())
    res = compare(cap, to_upstream(cap, "anthropic"), "anthropic", "sonnet", "1.106.2", rs)
    assert rs.stale(set(res.matched_rules)) == ["never"]


def test_rule_scope_tier_and_gateway_range():
    rs = RuleSet.from_yaml("""
rules:
  - id: r
    provider: [bedrock_converse]
    tier: opus
    gateway: ">=1.80,<1.100"
    path: metadata
    kinds: [lost]
    class: gateway-bug
    reason: planted
""")
    rec = DiffRecord(path="turn[3].metadata.user_id", kind="lost", before="x")
    assert rs.apply([rec], "bedrock_converse", "opus", "1.93.0")[0].rule == "r"
    assert rs.apply([rec], "bedrock_converse", "opus", "1.106.2")[0].status == "unexpected"
    assert rs.apply([rec], "bedrock_converse", "sonnet", "1.93.0")[0].status == "unexpected"
    assert rs.apply([rec], "bedrock_invoke", "opus", "1.93.0")[0].status == "unexpected"
    assert rs.apply([rec], "bedrock_converse", "opus", None)[0].status == "unexpected"
    assert rs.apply([rec.model_copy(update={"kind": "changed"})], "bedrock_converse", "opus", "1.93.0")[0].status == "unexpected"


def test_path_patterns():
    p = compile_path("messages[*].parts[*].cache")
    assert p.match("messages[0].parts[12].cache.ttl") and p.match("messages[3].parts[0].cache")
    assert not p.match("messages[0].parts[1].cached") and not p.match("system[0].cache")
    assert compile_path("tools[*].input_schema.$schema").match("tools[Bash].input_schema.$schema")
    assert compile_path("betas[*]").match("betas[claude-code-20250219]")
    assert compile_path("*.user_id").match("metadata.user_id")
    assert compile_path("turn[*]").match("turn[2]")


# ---------------------------------------------------------------------------------------------- the file itself


def test_rules_file_refuses_a_rule_without_reason():
    for bad in ("", "reason: ''", "reason: '   '"):
        text = f"""
rules:
  - id: no-reason
    provider: anthropic
    path: metadata
    kinds: [lost]
    class: by-design
    {bad}
"""
        with pytest.raises(RulesError, match="no-reason"):
            RuleSet.from_yaml(text)


@pytest.mark.parametrize("bad", [
    "kinds: []",
    "kinds: [gone]",
    "class: maybe",
    "gateway: 'not a range'",
    "unknown_key: 1",
])
def test_rules_file_refuses_malformed_rules(bad):
    base = {"id": "x", "provider": "anthropic", "path": "metadata", "kinds": "[lost]", "class": "by-design", "reason": "r"}
    key = bad.split(":")[0]
    base.pop(key, None)
    lines = "\n".join(f"    {k}: {v}" for k, v in base.items())
    with pytest.raises(RulesError):
        RuleSet.from_yaml(f"rules:\n  -\n{lines}\n    {bad}\n")


def test_rules_file_refuses_duplicate_ids():
    rule = "  - {id: a, provider: '*', path: metadata, kinds: [lost], class: by-design, reason: r}\n"
    with pytest.raises(RulesError, match="duplicate"):
        RuleSet.from_yaml("rules:\n" + rule + rule)


def test_shipped_rules_file_is_valid_and_every_rule_has_a_reason():
    rs = RuleSet.load(DEFAULT_RULES_PATH)
    assert len(rs.rules) >= 15
    for r in rs.rules:
        assert r.reason.strip() and r.kinds and r.path


def test_a_rule_can_target_count_tokens_requests_only():
    from fidelity.diff import DiffRecord

    rs = RuleSet.from_yaml("""
rules:
  - id: ct-only
    provider: bedrock_invoke
    path: count_tokens[*].sampling.max_tokens
    kinds: [added]
    class: by-design
    reason: CountTokens wraps a full request that needs max_tokens
""")
    counted = DiffRecord(path="count_tokens[0].sampling.max_tokens", kind="added", before=None, after=1024,
                         status="unexpected")
    turn = DiffRecord(path="turn[0].sampling.max_tokens", kind="added", before=None, after=1024, status="unexpected")
    applied = rs.apply([counted, turn], "bedrock_invoke", "sonnet", "1.106.2")
    assert [r.status for r in applied] == ["expected", "unexpected"]
    assert applied[0].rule == "ct-only"


def test_count_tokens_rules_apply_within_a_run():
    """compare_run prefixes count_tokens records; a rule naming that prefix must still match them."""
    import base64
    import json as _json

    from fidelity import compare_run

    body = {"model": "claude-sonnet-4-5-20250929-bedrock-invoke",
            "messages": [{"role": "user", "content": [{"type": "text", "text": "count me"}]}]}
    client = [{"method": "POST", "path": "/v1/messages/count_tokens", "headers": {"anthropic-version": "2023-06-01"},
               "body": body}]
    inner = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 1024, "messages": body["messages"]}
    upstream = [{"method": "POST", "operation": "count_tokens",
                 "path": "/model/anthropic.claude-sonnet-4-5-20250929-v1:0/count-tokens", "headers": {},
                 "body": {"input": {"invokeModel": {"body": base64.b64encode(_json.dumps(inner).encode()).decode()}}}}]
    rules = RuleSet.load()
    result = compare_run(client, upstream, "bedrock_invoke", "sonnet", "1.106.2", rules,
                         expected_upstream_model="us.anthropic.claude-sonnet-4-5-20250929-v1:0")
    by_path = {r.path: r for r in result.records}
    assert by_path["count_tokens[0].sampling.max_tokens"].rule == "bedrock-count-tokens-max-tokens"
    assert by_path["count_tokens[0].sampling.max_tokens"].status == "expected"
    assert "bedrock-count-tokens-max-tokens" in result.matched_rules


def test_a_client_request_the_gateway_refused_does_not_shift_later_turns():
    """Three client requests, the middle one (a different shape) never reached the provider."""
    from fidelity import compare_run

    def cap(messages, tools):
        body = {"model": "claude-sonnet-4-5-20250929-anthropic", "max_tokens": 64,
                "messages": messages, "tools": tools}
        return {"method": "POST", "path": "/v1/messages", "headers": {"anthropic-version": "2023-06-01"},
                "body": body}

    tool = lambda n: {"name": n, "description": n, "input_schema": {"type": "object"}}  # noqa: E731
    first = cap([{"role": "user", "content": "hi"}], [tool("Bash"), tool("Read")])
    refused = cap([{"role": "user", "content": "search"}], [{"type": "web_search_20250305", "name": "web_search"}])
    third = cap([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "ok"},
                 {"role": "user", "content": "again"}], [tool("Bash"), tool("Read")])
    upstream = [dict(first, operation="messages"), dict(third, operation="messages")]
    result = compare_run([first, refused, third], upstream, "anthropic", "sonnet", "1.106.2", RuleSet.load())
    lost = [r for r in result.records if r.path == "turn[1]"]
    assert lost and lost[0].kind == "lost"
    # the third client request was compared with the second upstream one: no spurious message differences
    assert not [r for r in result.records if r.path.startswith("turn[2].messages")], result.records
