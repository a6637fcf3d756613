"""The model catalogue (emulator/catalog.yaml) as the emulator applies it, on every provider through one code path:
thinking modes (`enabled` refused on adaptive-only models, `adaptive` accepted, `disabled` where the model refuses
it), effort levels, unknown models as emulator gaps (no catch-all profile), and coverage of the CLI's own model
tables (a new CLI table naming a model the emulator lacks fails here)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import aws_post
from test_emulator_vertex import exchange, make_jwt, sa, token, url  # noqa: F401 (fixtures)

from emulator import catalog, profiles
from providers import registry
from providers.anthropic.credentials import API_KEY as anthropic_key
from providers.azure.credentials import API_KEY as azure_key

TABLES = Path(__file__).resolve().parents[2] / "fixtures" / "model_tables"
MESSAGES = [{"role": "user", "content": "Reply with exactly the word: ok"}]


# -- one request on each provider surface ---------------------------------------------------------------------------

def _bedrock_id(name: str) -> str:
    entry = catalog.known_model(name)   # the US inference profile of the model's Bedrock id
    return "us." + ((entry.get("ids") or {}).get("bedrock") or f"anthropic.{name}")


def send(emu, token, surface: str, name: str, extra: dict):
    """POST a Messages request for model `name` (+ `extra` body keys) the way `surface` takes it."""
    body = {"max_tokens": 4096, "messages": MESSAGES, **extra}
    if surface == "anthropic":
        return emu.http.post("/v1/messages", json={"model": name, **body},
                             headers={"x-api-key": anthropic_key, "anthropic-version": "2023-06-01"})
    if surface == "azure":
        return emu.http.post("/anthropic/v1/messages", json={"model": name, **body},
                             headers={"x-api-key": azure_key, "anthropic-version": "2023-06-01"})
    if surface == "bedrock_invoke":
        return aws_post(emu, f"/model/{_bedrock_id(name)}/invoke", {"anthropic_version": "bedrock-2023-05-31", **body})
    if surface == "vertex_ai":
        return emu.http.post(url(emu, model=name), headers={"authorization": f"Bearer {token}"},
                             json={"anthropic_version": "vertex-2023-10-16", **body})
    if surface == "bedrock_converse":   # thinking and output_config ride in additionalModelRequestFields
        amrf = {k: v for k, v in extra.items() if k in ("thinking", "output_config")}
        conv = {"messages": [{"role": "user", "content": [{"text": MESSAGES[0]["content"]}]}],
                "inferenceConfig": {"maxTokens": body["max_tokens"]}}
        if extra.get("tool_choice"):
            raise ValueError("not used on converse here")
        if amrf:
            conv["additionalModelRequestFields"] = amrf
        return aws_post(emu, f"/model/{_bedrock_id(name)}/converse", conv)
    raise ValueError(surface)


def error_text(r) -> str:
    j = r.json()
    if "message" in j and "error" not in j:   # Bedrock
        return j["message"]
    return j["error"]["message"]


SURFACES = ["anthropic", "azure", "bedrock_invoke", "bedrock_converse", "vertex_ai"]
MESSAGES_SURFACES = ["anthropic", "azure", "bedrock_invoke", "vertex_ai"]


@pytest.mark.parametrize("surface", SURFACES)
def test_enabled_thinking_is_refused_on_an_adaptive_only_model(emu, job, token, surface):
    r = send(emu, token, surface, "claude-haiku-5-5", {"thinking": {"type": "enabled", "budget_tokens": 2048}})
    assert r.status_code == 400, r.text
    assert '"thinking.type.enabled" is not supported for this model' in error_text(r)
    cap = emu.captures(job)[-1]
    assert cap["cause"] == "refused" and "catalog.yaml" in cap["cause_reason"]


@pytest.mark.parametrize("surface", SURFACES)
def test_adaptive_thinking_with_an_offered_effort_is_accepted(emu, job, token, surface):
    r = send(emu, token, surface, "claude-haiku-5-5",
             {"thinking": {"type": "adaptive"}, "output_config": {"effort": "xhigh"}})
    assert r.status_code == 200, r.text
    assert emu.captures(job)[-1]["cause"] == "ok"


@pytest.mark.parametrize("surface", SURFACES)
def test_an_effort_level_the_model_does_not_offer_is_refused(emu, job, token, surface):
    # Opus 4.6 offers low/medium/high/max; xhigh came with Opus 4.7 (catalog.yaml source `effort`)
    r = send(emu, token, surface, "claude-opus-4-6",
             {"thinking": {"type": "adaptive"}, "output_config": {"effort": "xhigh"}})
    assert r.status_code == 400, r.text
    assert "output_config.effort" in error_text(r) and "'max'" in error_text(r)
    cap = emu.captures(job)[-1]
    assert cap["cause"] == "refused" and "offers effort low, medium, high, max" in cap["cause_reason"]
    ok = send(emu, token, surface, "claude-opus-4-6", {"thinking": {"type": "adaptive"}, "output_config": {"effort": "max"}})
    assert ok.status_code == 200, ok.text


def test_adaptive_is_refused_on_a_budget_only_model(emu, job, token):
    r = send(emu, token, "bedrock_invoke", "claude-sonnet-4-5-20250929", {"thinking": {"type": "adaptive"}})
    assert r.status_code == 400
    assert "Input tag 'adaptive' found using 'type' does not match any of the expected tags" in error_text(r)


# `thinking.type: disabled` is judged on the Messages body (the universal form drops `disabled`): every surface whose
# body is a Messages body. Converse carries it in additionalModelRequestFields, which the Converse codec drops before
# the rules see it — not judged there yet.
@pytest.mark.parametrize("surface", MESSAGES_SURFACES)
def test_disabled_thinking_is_refused_where_the_model_refuses_it(emu, job, token, surface):
    r = send(emu, token, surface, "claude-opus-5-5", {"thinking": {"type": "disabled"}})
    assert r.status_code == 400, r.text
    assert '"thinking.type.disabled" is not supported for this model' in error_text(r)
    assert emu.captures(job)[-1]["cause"] == "refused"
    # Haiku 5.5 (and Opus 5) take `disabled` at effort high or below only
    low = send(emu, token, surface, "claude-haiku-5-5", {"thinking": {"type": "disabled"}, "output_config": {"effort": "high"}})
    assert low.status_code == 200, low.text
    high = send(emu, token, surface, "claude-haiku-5-5", {"thinking": {"type": "disabled"}, "output_config": {"effort": "max"}})
    assert high.status_code == 400 and "thinking.type.disabled" in error_text(high)
    # a model that takes `disabled`
    assert send(emu, token, surface, "claude-sonnet-4-6", {"thinking": {"type": "disabled"}}).status_code == 200


def test_a_platform_override_applies_on_that_platform_only(emu, job, token):
    # Bedrock's adaptive-thinking page refuses `disabled` on Opus 4.7; the CLI table and Anthropic's page do not
    assert send(emu, token, "bedrock_invoke", "claude-opus-4-7", {"thinking": {"type": "disabled"}}).status_code == 400
    assert send(emu, token, "anthropic", "claude-opus-4-7", {"thinking": {"type": "disabled"}}).status_code == 200


def test_forced_tool_choice_is_refused_where_the_model_refuses_it(emu, job, token):
    tools = [{"name": "echo", "description": "echo", "input_schema": {"type": "object", "properties": {}}}]
    r = send(emu, token, "anthropic", "claude-opus-5-5", {"tools": tools, "tool_choice": {"type": "any"}})
    assert r.status_code == 400 and "forced tool use" in error_text(r)
    assert send(emu, token, "anthropic", "claude-opus-5", {"tools": tools, "tool_choice": {"type": "any"}}).status_code == 200


# -- unknown models: an emulator gap, never a default profile --------------------------------------------------------

@pytest.mark.parametrize("surface,model_id", [
    ("anthropic", "claude-sonnet-9-9"),
    ("bedrock_invoke", "us.anthropic.claude-sonnet-9-9"),
    ("vertex_ai", "claude-sonnet-9-9"),
])
def test_an_unknown_model_is_an_emulator_gap(emu, job, token, surface, model_id):
    if surface == "anthropic":
        r = emu.http.post("/v1/messages", json={"model": model_id, "max_tokens": 64, "messages": MESSAGES},
                          headers={"x-api-key": anthropic_key, "anthropic-version": "2023-06-01"})
    elif surface == "bedrock_invoke":
        r = aws_post(emu, f"/model/{model_id}/invoke", {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 64,
                                                        "messages": MESSAGES})
    else:
        r = emu.http.post(url(emu, model=model_id), headers={"authorization": f"Bearer {token}"},
                          json={"anthropic_version": "vertex-2023-10-16", "max_tokens": 64, "messages": MESSAGES})
    assert r.status_code in (400, 404)
    cap = emu.captures(job)[-1]
    assert cap["cause"] == "emulator_gap" and cap["cause_reason"].startswith("emulator gap:")


@pytest.mark.parametrize("name", ["claude-sonnet-9-9", "claude-opus-6", "claude-haiku-5-6", "claude-sonnet-4-7",
                                  "claude-opus-4-9"])
def test_no_catch_all_feature_profile(name):
    for provider in registry.ids():
        assert profiles.model_features(provider, name) is None


def test_every_sdk_model_name_has_a_feature_profile():
    by_name, sdk = catalog._models()
    missing = [n for n in sorted(sdk) if catalog.features("anthropic", n) is None]
    assert missing == [], f"names the anthropic SDK's Model literal knows but emulator/catalog.yaml does not: {missing}"


# -- the catalogue's own shape ------------------------------------------------------------------------------------------

def test_every_entry_cites_sources_the_file_defines():
    data = catalog.data()
    for entry in data["models"]:
        assert entry.get("source"), entry["names"]
        assert set(entry["source"]) <= set(data["sources"]), entry["names"]
        assert set(entry["served_on"]) <= set(data["platforms"]), entry["names"]
        assert set(entry.get("platform", {})) <= set(entry["served_on"]) | set(data["platforms"]), entry["names"]


def test_every_provider_package_belongs_to_one_platform():
    seen = [p for providers in catalog.data()["platforms"].values() for p in providers]
    assert sorted(seen) == sorted(set(seen))
    for provider in registry.all():
        assert catalog.platform(provider.id) is not None, provider.id
        kind = getattr(provider, "model_table_kind", None)   # the provider's own CLI-table key, where declared
        if kind is not None:
            assert kind == catalog.platform(provider.id), provider.id


# -- the CLI's model tables: every model, on every platform the table offers it ---------------------------------------

def _table_models(version: str) -> list[dict]:
    return json.loads((TABLES / f"{version}.json").read_text())["models"]


def _cases(version: str):
    platforms = catalog.data()["platforms"]
    for m in _table_models(version):
        for kind in platforms:
            yield pytest.param(m, kind, id=f"{version}:{m['id']}:{kind}")


@pytest.mark.parametrize("model,kind", [*_cases("2.1.332"), *_cases("2.1.197")])
def test_every_cli_table_model_is_in_the_catalogue_where_the_table_offers_it(model, kind):
    table_id = model["provider_ids"].get(kind)
    first_party = model["provider_ids"]["first_party"]
    verdict = catalog.judge(catalog.data()["platforms"]["first_party"][0], first_party)
    assert verdict.cause in ("ok", "refused"), f"{first_party}: {verdict.why}"
    entry = catalog.known_model(verdict.name)
    assert entry is not None and "served_on" in entry, f"{model['id']} is not in emulator/catalog.yaml"
    disagrees = entry.get("cli_table_disagrees", {})
    for provider in catalog.data()["platforms"][kind]:
        if table_id is None:
            assert kind not in entry["served_on"], f"the table does not offer {model['id']} on {kind}"
            continue
        if kind in disagrees:   # the providers' docs win over the table; the entry says why
            assert kind not in entry["served_on"] and disagrees[kind], (model["id"], provider)
            continue
        v = catalog.judge(provider, table_id)
        assert v.cause == "ok", f"{table_id} on {provider}: {v.why}"
        assert profiles.model_features(provider, v.name) is not None, (table_id, provider)


@pytest.mark.parametrize("model", _table_models("2.1.332"), ids=lambda m: m["id"])
def test_the_catalogue_agrees_with_the_cli_capability_flags(model):
    caps = set(model.get("capabilities", []))
    ctx = model.get("context") or {}
    feat = catalog.features("anthropic", model["provider_ids"]["first_party"])
    assert feat is not None
    if "adaptive_thinking" in caps:
        assert "adaptive" in feat["thinking"]
    if "rejects_disabled_thinking" in caps:
        assert feat["thinking_disabled"] != "accepted"
    if "effort" in caps:
        assert {"low", "medium", "high"} <= set(feat["efforts"])
    assert ("xhigh" in feat["efforts"]) == ("xhigh_effort" in caps)
    if "max_effort" in caps:
        assert "max" in feat["efforts"]
    assert feat["native_1m"] == bool(ctx.get("native_1m"))
    if ctx.get("supports_1m_beta"):
        assert feat["context_1m"]
    assert feat["max_context"] == int(ctx.get("window", 200000))
    assert feat["max_output"] == model["max_output_tokens"]["upper"]
