"""Decoders from realistic CLI-shaped requests and their provider translations; compare() on them."""
from __future__ import annotations

import base64
import hashlib
import json

import pytest

from fidelity import RuleSet, compare, compare_run, decode, diff
from fidelity.decoders import DecodeError
from fidelity_testkit import (
    BILLING,
    MODELS,
    PDF,
    PNG,
    TOOL_NAMES,
    cli_body,
    client_capture,
    to_upstream,
)

PROVIDERS = ["anthropic", "bedrock_invoke", "bedrock_converse", "vertex_ai", "azure"]


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return RuleSet.load()


def test_client_request_decodes_to_the_universal_form():
    u = decode(client_capture(cli_body(media=True, second_turn=True)), "anthropic")
    assert u.envelope.format == "anthropic" and u.envelope.stream is True
    assert u.envelope.model == "claude-sonnet-4-5-x" and u.envelope.api_version == "2023-06-01"
    assert u.betas == sorted(u.betas) and "claude-code-20250219" in u.betas
    assert [p.kind for p in u.system] == ["text", "text", "text"]
    assert u.system[0].text == BILLING and u.system[0].cache is None
    assert u.system[1].cache.ttl == "5m" and u.system[2].cache.ttl == "5m"
    assert len(u.tools) == 24 and {t.name for t in u.tools} == set(TOOL_NAMES)
    assert u.tools[0].input_schema["$schema"].startswith("https://json-schema.org")
    assert u.reasoning.mode == "enabled" and u.reasoning.budget_tokens == 31999
    assert u.sampling.max_tokens == 32000
    assert u.metadata.user_id.startswith("{")
    assert u.context_management == {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]}
    assert [m.role for m in u.messages] == ["user", "assistant", "user"]
    first = u.messages[0].parts
    assert first[0].text.startswith("<system-reminder>")
    img, doc = first[3], first[4]
    assert img.kind == "image" and img.media_type == "image/png" and img.sha256 == hashlib.sha256(base64.b64decode(PNG)).hexdigest()
    assert doc.kind == "document" and doc.title == "report.pdf" and doc.sha256 == hashlib.sha256(base64.b64decode(PDF)).hexdigest()
    thinking, text, tool_use = u.messages[1].parts
    assert thinking.kind == "reasoning" and thinking.signature == "c2lnbmF0dXJlLTEyMw=="
    assert tool_use.kind == "tool_use" and tool_use.input == {"command": "echo pong", "description": "echo"}
    result = u.messages[2].parts[0]
    assert result.kind == "tool_result" and result.id == "toolu_01" and result.content[0].text == "pong"
    assert u.messages[2].parts[-1].cache.ttl == "5m"
    assert u.unmapped == {}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_upstream_decodes_and_only_by_design_differences_remain(provider, rules):
    cap = client_capture(cli_body(ttl="1h", media=True, second_turn=True))
    up = to_upstream(cap, provider)
    u2 = decode(up, {"azure": "azure"}.get(provider, provider))
    assert u2.envelope.model == MODELS[provider]
    assert u2.envelope.stream is True
    assert u2.reasoning.budget_tokens == 31999
    assert all(p.cache.ttl == "1h" for p in u2.system if p.cache)
    res = compare(cap, up, provider, "sonnet", "1.106.2", rules, expected_upstream_model=MODELS[provider])
    unexpected = [r for r in res.records if r.status == "unexpected"]
    assert res.verdict == ("expected-only"), unexpected
    for r in res.records:
        assert r.rule and r.reason


def test_invoke_envelope_from_url_and_body():
    cap = client_capture(cli_body())
    up = to_upstream(cap, "bedrock_invoke")
    u = decode(up, "bedrock_invoke")
    assert u.envelope.model_location == "url" and u.envelope.stream_location == "url"
    assert u.envelope.api_version == "bedrock-2023-05-31"
    assert u.betas == ["context-management-2025-06-27"]  # from body anthropic_beta and header, as a set
    assert "anthropic_version" not in u.unmapped and "anthropic_beta" not in u.unmapped
    up["path"] = up["path"].replace("invoke-with-response-stream", "invoke")
    assert decode(up, "bedrock_invoke").envelope.stream is False


def test_vertex_envelope():
    up = to_upstream(client_capture(cli_body()), "vertex_ai")
    u = decode(up, "vertex_ai")
    assert u.envelope.model == "claude-sonnet-4-5@20250929" and u.envelope.stream is True
    assert u.envelope.stream_location == "url+body" and u.envelope.api_version == "vertex-2023-10-16"
    up["body"]["stream"] = False  # URL and body disagree: visible
    assert decode(up, "vertex_ai").unmapped == {"stream": False}


def test_converse_cache_points_fold_onto_the_part_before():
    up = to_upstream(client_capture(cli_body(ttl="1h")), "bedrock_converse")
    assert up["path"].startswith("/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse-stream")
    sysb = up["body"]["system"]
    assert sum("cachePoint" in b for b in sysb) == 2
    u = decode(up, "bedrock_converse")
    assert u.envelope.model == MODELS["bedrock_converse"]
    assert [p.cache.ttl if p.cache else None for p in u.system] == [None, "1h", "1h"]
    assert u.messages[0].parts[-1].cache.ttl == "1h"
    assert all(p.kind != "unknown" for m in u.messages for p in m.parts)


def test_converse_specifics():
    body = {
        "messages": [
            {"role": "user", "content": [
                {"document": {"format": "txt", "name": "notes", "source": {"text": "hello"}}},
                {"image": {"format": "jpeg", "source": {"bytes": PNG}}},
                {"text": "q"}, {"cachePoint": {"type": "default"}},
            ]},
            {"role": "assistant", "content": [
                {"reasoningContent": {"redactedContent": base64.b64encode(b"opaque").decode()}},
                {"toolUse": {"toolUseId": "t1", "name": "Bash", "input": {"a": 1}}},
            ]},
            {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "status": "error", "content": [{"json": {"x": 1}}]}}]},
        ],
        "toolConfig": {"tools": [{"toolSpec": {"name": "Bash", "inputSchema": {"json": {"type": "object"}}}}, {"cachePoint": {"type": "default", "ttl": "1h"}}],
                       "toolChoice": {"tool": {"name": "Bash"}}},
        "inferenceConfig": {"maxTokens": 100, "temperature": 0.5, "topP": 0.9, "stopSequences": ["X"]},
        "additionalModelRequestFields": {"thinking": {"type": "enabled", "budget_tokens": 2048}, "top_k": 5,
                                         "anthropic_beta": ["context-1m-2025-08-07"], "mystery": 1},
        "requestMetadata": {"k": "v"},
        "outputConfig": {"textFormat": {"type": "json_schema", "structure": {"jsonSchema": {"schema": json.dumps({"type": "object"}), "name": "out"}}}},
    }
    u = decode({"method": "POST", "path": "/model/m/converse", "headers": {}, "body": body}, "bedrock_converse")
    doc, img, text = u.messages[0].parts
    assert doc.media_type == "text/plain" and doc.title == "notes" and doc.sha256 == hashlib.sha256(b"hello").hexdigest()
    assert img.media_type == "image/jpeg" and text.cache.ttl == "5m"
    red = u.messages[1].parts[0]
    assert red.redacted and red.sha256 == hashlib.sha256(b"opaque").hexdigest()
    tr = u.messages[2].parts[0]
    assert tr.is_error is True and tr.content[0].kind == "json"
    assert u.tools[0].cache.ttl == "1h" and u.tool_choice.mode == "tool" and u.tool_choice.name == "Bash"
    assert u.sampling.model_dump(exclude_none=True) == {"max_tokens": 100, "temperature": 0.5, "top_p": 0.9, "top_k": 5, "stop_sequences": ["X"]}
    assert u.reasoning.budget_tokens == 2048 and u.betas == ["context-1m-2025-08-07"]
    assert u.output_format.schema_ == {"type": "object"} and u.output_format.name == "out"
    assert u.metadata.request_metadata == {"k": "v"}
    assert u.unmapped == {"additionalModelRequestFields.mystery": 1}
    assert u.envelope.stream is False


@pytest.mark.parametrize("fmt,media", [("md", "text/markdown"), ("txt", "text/plain"), ("csv", "text/csv"),
                                       ("html", "text/html"), ("pdf", "application/pdf")])
def test_converse_document_format_is_its_media_type(fmt, media):
    """The one Converse codec, settled from AWS's DocumentFormat enum (a file format: `md` is Markdown)."""
    body = {"messages": [{"role": "user", "content": [
        {"document": {"format": fmt, "name": "notes", "source": {"bytes": base64.b64encode(b"# hi").decode()}}}]}]}
    (doc,) = decode({"method": "POST", "path": "/model/m/converse", "headers": {}, "body": body},
                    "bedrock_converse").messages[0].parts
    assert doc.media_type == media and doc.data == b"# hi" and doc.sha256 == hashlib.sha256(b"# hi").hexdigest()
    assert "data" not in doc.dump()  # the bytes ride along for the emulator, never into a diff


def test_normalisation_string_merge_and_empties():
    a = {"model": "m", "max_tokens": 5, "system": "be brief", "messages": [
        {"role": "user", "content": "a"}, {"role": "user", "content": [{"type": "text", "text": "b"}]}],
        "tool_choice": {"type": "auto"}, "thinking": {"type": "disabled"}, "metadata": {}, "stop_sequences": []}
    b = {"model": "m", "max_tokens": 5, "system": [{"type": "text", "text": "be brief"}], "messages": [
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}], "metadata": None}
    ua = decode({"method": "POST", "path": "/v1/messages", "headers": {}, "body": a}, "anthropic")
    ub = decode({"method": "POST", "path": "/v1/messages", "headers": {}, "body": json.dumps(b)}, "anthropic")
    assert len(ua.messages) == 1 and len(ua.messages[0].parts) == 2
    assert diff(ua, ub) == []


def test_unknown_blocks_and_fields_are_kept_visible():
    body = {"model": "m", "max_tokens": 5, "service_tier": "auto", "messages": [{"role": "user", "content": [
        {"type": "search_result", "source": "s", "title": "t", "content": []},
        {"type": "text", "text": "x", "brand_new": 1}]}]}
    u = decode({"method": "POST", "path": "/v1/messages", "headers": {}, "body": body}, "anthropic")
    assert u.unmapped == {"service_tier": "auto"}
    assert u.messages[0].parts[0].kind == "unknown" and u.messages[0].parts[0].type == "search_result"
    assert json.loads(u.messages[0].parts[1].raw) == {"brand_new": 1}


def test_decode_errors():
    with pytest.raises(DecodeError):
        decode({"method": "POST", "path": "/v1/messages", "body": "not json"}, "anthropic")
    with pytest.raises(DecodeError):
        decode({"method": "POST", "path": "/v1/messages", "body": {}}, "openai")


def test_compare_run_pairs_turns_and_skips_non_message_requests(rules):
    c1 = client_capture(cli_body())
    c2 = client_capture(cli_body(second_turn=True))
    client = [{"method": "HEAD", "path": "/", "headers": {}, "body": None}, c1, c2]
    upstream = [
        {"method": "POST", "path": "/token", "headers": {}, "body": {"grant_type": "x"}},
        to_upstream(c1, "vertex_ai"), to_upstream(c2, "vertex_ai"),
    ]
    res = compare_run(client, upstream, "vertex_ai", "sonnet", "1.106.2", rules)
    assert res.turns == 2 and res.verdict == "expected-only"
    assert {r.path.split(".")[0] for r in res.records} == {"turn[0]", "turn[1]"}
    # a turn that never reached the provider is reported, and the rest still compared
    res = compare_run(client, upstream[:2], "vertex_ai", "sonnet", "1.106.2", rules)
    assert res.verdict == "unexpected"
    assert [r.path for r in res.records if r.status == "unexpected"] == ["turn[1]"]
    dumped = res.model_dump()
    assert set(dumped) >= {"verdict", "records", "matched_rules"} and json.dumps(dumped)


def test_compare_run_count_tokens_only_when_both_sides_have_them(rules):
    body = cli_body()
    ct = {k: v for k, v in body.items() if k in ("model", "messages", "system", "tools")}
    cct = {**client_capture(ct), "path": "/v1/messages/count_tokens"}
    uct = {**to_upstream(client_capture({**ct, "stream": False}), "anthropic"), "path": "/v1/messages/count_tokens"}
    uct["body"].pop("stream", None)
    c1 = client_capture(body)
    res = compare_run([cct, c1], [to_upstream(c1, "anthropic")], "anthropic", "sonnet", "1.106.2", rules)
    assert res.notes and "count_tokens not compared" in res.notes[0]
    res = compare_run([cct, c1], [uct, to_upstream(c1, "anthropic")], "anthropic", "sonnet", "1.106.2", rules)
    assert any(r.path.startswith("count_tokens[0].") for r in res.records)
    assert res.verdict == "expected-only"


def test_wrong_upstream_model_is_unexpected_even_with_the_alias_rule(rules):
    cap = client_capture(cli_body())
    up = to_upstream(cap, "anthropic")
    up["body"]["model"] = "claude-3-haiku-20240307"
    res = compare(cap, up, "anthropic", "sonnet", "1.106.2", rules, expected_upstream_model=MODELS["anthropic"])
    assert res.verdict == "unexpected"
    (rec,) = [r for r in res.records if r.status == "unexpected"]
    assert rec.path == "envelope.model" and rec.rule == "builtin.model-mapping"


def test_bedrock_count_tokens_bodies():
    inner = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    cap = {"method": "POST", "path": "/model/us.anthropic.claude-sonnet-4-5-20250929-v1:0/count-tokens", "headers": {},
           "body": {"input": {"invokeModel": {"body": base64.b64encode(json.dumps(inner).encode()).decode()}}}}
    for dialect in ("bedrock_invoke", "bedrock_converse"):
        u = decode(cap, dialect)
        assert u.envelope.endpoint == "count_tokens" and u.messages[0].parts[0].text == "hi"
    cap["body"] = {"input": {"converse": {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}}}
    assert decode(cap, "bedrock_converse").messages[0].parts[0].text == "hi"


def test_request_kind_uses_the_emulator_operation_when_present():
    from fidelity import request_kind

    assert request_kind({"method": "POST", "path": "/whatever", "operation": "converse_stream"}, "bedrock_converse") == "message"
    assert request_kind({"method": "POST", "path": "/token", "operation": "token"}, "vertex_ai") is None
    assert request_kind({"method": "POST", "path": "/x", "operation": "count_tokens"}, "azure") == "count_tokens"
    assert request_kind({"method": "HEAD", "path": "/"}, "client") is None
    assert request_kind({"method": "POST", "path": "/v1/messages?beta=true"}, "client") == "message"
    assert request_kind({"method": "POST", "path": "/model/arn:aws:bedrock:us-east-1:1:inference-profile/x/invoke"}, "bedrock_invoke") == "message"


def test_every_provider_package_decodes_and_classifies_what_it_receives():
    """The upstream side comes from the provider's own package (providers/<id>/wire.py), found by the registry."""
    from fidelity import decode_client, request_kind
    from providers import registry

    cap = client_capture(cli_body())
    assert decode_client(cap).envelope.format == "client" and request_kind(cap, "client") == "message"
    # every provider API the packages reach is covered here; a pass-through package decodes its provider API's wire
    assert {p.emulator().provider for p in registry.all()} == set(PROVIDERS)
    for provider in registry.all():
        api = provider.emulator().provider
        up = to_upstream(cap, api)
        assert provider.decode(up) == decode(up, provider.id)
        assert provider.decode(up).envelope.format == api
        assert request_kind(up, provider.id) == "message"  # by path: the capture carries no emulator operation
        assert MODELS[api] in provider.same_model(MODELS[api])
    assert registry.get("bedrock_invoke").same_model("us.anthropic.x-v1:0") == {"us.anthropic.x-v1:0", "anthropic.x-v1:0"}
    assert registry.get("vertex_ai").same_model("claude-x@20250101") == {"claude-x@20250101", "claude-x"}
