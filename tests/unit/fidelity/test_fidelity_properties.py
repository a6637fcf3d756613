"""Property tests: decode(Anthropic) is stable under re-serialisation; decode(Converse) of a hand translation
equals decode(Anthropic) of the original except where a rule says otherwise."""
from __future__ import annotations

import base64
import json
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fidelity import RuleSet, decode, diff
from fidelity_testkit import anthropic_to_converse

RULES = RuleSet.load()

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)
name = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,15}", fullmatch=True)
json_leaf = st.one_of(st.integers(-1000, 1000), st.booleans(), text)
json_obj = st.recursive(
    st.dictionaries(name, json_leaf, max_size=4),
    lambda inner: st.dictionaries(name, st.one_of(json_leaf, inner, st.lists(json_leaf, max_size=3)), max_size=4),
    max_leaves=10,
)
cache = st.one_of(st.none(), st.just({"type": "ephemeral"}), st.sampled_from([{"type": "ephemeral", "ttl": "5m"}, {"type": "ephemeral", "ttl": "1h"}]))
b64 = st.binary(min_size=1, max_size=64).map(lambda b: base64.b64encode(b).decode())


def _with_cache(block, cc):
    if cc:
        block["cache_control"] = cc
    return block


text_block = st.builds(lambda t, cc: _with_cache({"type": "text", "text": t}, cc), text, cache)
image_block = st.builds(lambda d, mt, cc: _with_cache({"type": "image", "source": {"type": "base64", "media_type": mt, "data": d}}, cc),
                        b64, st.sampled_from(["image/png", "image/jpeg", "image/gif", "image/webp"]), cache)
doc_block = st.builds(lambda d, title, cc: _with_cache({"type": "document", "title": title, "source": {"type": "base64", "media_type": "application/pdf", "data": d}}, cc),
                      b64, name, cache)
tool_use_block = st.builds(lambda i, n, inp: {"type": "tool_use", "id": f"toolu_{i}", "name": n, "input": inp}, st.integers(0, 99), name, json_obj)
tool_result_block = st.builds(lambda i, content, err: {"type": "tool_result", "tool_use_id": f"toolu_{i}", "content": content, **({"is_error": True} if err else {})},
                              st.integers(0, 99), st.lists(st.builds(lambda t: {"type": "text", "text": t}, text), min_size=1, max_size=2), st.booleans())
thinking_block = st.builds(lambda t, s: {"type": "thinking", "thinking": t, "signature": s}, text, b64)

user_content = st.one_of(text, st.lists(st.one_of(text_block, image_block, doc_block, tool_result_block), min_size=1, max_size=4))
assistant_content = st.lists(st.one_of(text_block, tool_use_block, thinking_block), min_size=1, max_size=3)


@st.composite
def anthropic_request(draw):
    n = draw(st.integers(1, 3))
    messages = []
    for i in range(n):
        messages.append({"role": "user", "content": draw(user_content)})
        if i < n - 1:
            messages.append({"role": "assistant", "content": draw(assistant_content)})
    body = {"model": "claude-sonnet-4-5-x", "max_tokens": draw(st.integers(1, 64000)), "messages": messages}
    if draw(st.booleans()):
        body["system"] = draw(st.one_of(text, st.lists(text_block, min_size=1, max_size=3)))
    if draw(st.booleans()):
        body["tools"] = [
            _with_cache({"name": f"{n}_{i}", "description": d, "input_schema": {"type": "object", "properties": props}}, cc)
            for i, (n, d, props, cc) in enumerate(draw(st.lists(st.tuples(name, text, json_obj, cache), min_size=1, max_size=3)))
        ]
        if draw(st.booleans()):
            body["tool_choice"] = draw(st.sampled_from([{"type": "auto"}, {"type": "any"}, {"type": "tool", "name": body["tools"][0]["name"]}]))
    if draw(st.booleans()):
        body["thinking"] = {"type": "enabled", "budget_tokens": draw(st.integers(1024, 31999))}
    for key, strat in (("temperature", st.floats(0, 1)), ("top_p", st.floats(0, 1)), ("top_k", st.integers(1, 500)),
                       ("stop_sequences", st.lists(text, min_size=1, max_size=2))):
        if draw(st.booleans()):
            body[key] = draw(strat)
    if draw(st.booleans()):
        body["metadata"] = {"user_id": draw(text)}
    body["stream"] = draw(st.booleans())
    return body


def _shuffled(value, rnd):
    if isinstance(value, dict):
        items = list(value.items())
        rnd.shuffle(items)
        return {k: _shuffled(v, rnd) for k, v in items}
    if isinstance(value, list):
        return [_shuffled(v, rnd) for v in value]
    return value


def _cap(body, path="/v1/messages"):
    return {"method": "POST", "path": path, "query": "beta=true", "headers": {"anthropic-version": "2023-06-01"}, "body": body}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(anthropic_request(), st.integers(0, 2**32 - 1))
def test_anthropic_decode_is_stable_under_reserialisation(body, seed):
    u1 = decode(_cap(body), "anthropic")
    again = json.loads(json.dumps(_shuffled(body, random.Random(seed)), indent=1, ensure_ascii=seed % 2 == 0))
    u2 = decode(_cap(again), "anthropic")
    assert u1 == u2 and diff(u1, u2) == []
    assert u1.dump() == json.loads(json.dumps(u2.dump()))
    assert decode(_cap(json.dumps(body)), "anthropic") == u1  # a str body decodes the same


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(anthropic_request())
def test_converse_translation_preserves_meaning_except_where_rules_say(body):
    ua = decode(_cap(body), "anthropic")
    converse = anthropic_to_converse(body)
    op = "converse-stream" if body.get("stream") else "converse"
    uc = decode({"method": "POST", "path": f"/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/{op}", "headers": {}, "body": converse},
                "bedrock_converse")
    records = RULES.apply(diff(ua, uc), "bedrock_converse", "sonnet", "1.106.2")
    unexpected = [(r.path, r.kind, r.before, r.after) for r in records if r.status == "unexpected"]
    assert unexpected == []
    assert uc.messages == ua.messages and uc.system == ua.system
