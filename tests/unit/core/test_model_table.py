"""The CLI's embedded model table: found in the binary, parsed without evaluation, shape-checked, and asked."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ccmatrix.model_table import ModelTable, ModelTableError, find_literal, literal_to_json

TABLES = Path(__file__).resolve().parents[2] / "fixtures" / "model_tables"


def table(version: str) -> ModelTable:
    return ModelTable(json.loads((TABLES / f"{version}.json").read_text()))


def test_2_1_197_tiers_and_provider_ids():
    t = table("2.1.197")
    assert {f: t.latest(f) for f in ("haiku", "sonnet", "opus")} == {
        "haiku": "claude-haiku-4-5", "sonnet": "claude-sonnet-5", "opus": "claude-opus-4-8"}
    assert t.alias("sonnet", "gateway") == "claude-sonnet-4-6"
    assert t.alias("haiku", "gateway") == "claude-haiku-4-5"  # no per-provider override: the default
    assert t.provider_id("claude-sonnet-4-5", "bedrock") == "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    assert t.provider_id("claude-sonnet-4-5", "vertex") == "claude-sonnet-4-5@20250929"
    assert t.provider_id("claude-haiku-4-5", "first_party") == "claude-haiku-4-5-20251001"


def test_2_1_332_knows_the_5_5_family_and_its_provider_gaps():
    t = table("2.1.332")
    assert {f: t.latest(f) for f in ("haiku", "sonnet", "opus")} == {
        "haiku": "claude-haiku-5-5", "sonnet": "claude-sonnet-5-5", "opus": "claude-opus-5-5"}
    assert t.alias("opus", "gateway") == "claude-opus-4-7" and t.alias("sonnet", "bedrock") == "claude-sonnet-4-5"
    haiku = t.model("claude-haiku-5-5")
    assert haiku.provider_ids["bedrock"] == "us.anthropic.claude-haiku-5-5"
    assert t.provider_id("claude-haiku-5-5", "gateway") is None  # the table says: not offered there
    assert "adaptive_thinking" in haiku.capabilities and "rejects_disabled_thinking" in haiku.capabilities
    assert haiku.context["native_1m"] is True
    assert t.provider_id("claude-sonnet-4-5", "mantle") is None


def test_the_literal_is_found_inside_a_binary_and_parsed_without_evaluation():
    literal = ('{"//":"Hand-maintained baked-in model catalog \\u2014 x",schema_version:1,models:[{id:"claude-x-1",'
               'family:"x",provider_ids:{first_party:"claude-x-1",bedrock:null},context:{window:1e6,native_1m:!0},'
               'capabilities:["a"]}],aliases:{x:{default:"claude-x-1"}},latest_per_family:{x:"claude-x-1"}}')
    blob = b"\x00junk{not:this}" + literal.encode() + b";function f(){return 1}\x00more"
    found = find_literal(blob)
    assert found == literal
    data = literal_to_json(found)
    assert data["models"][0]["context"] == {"window": 1e6, "native_1m": True}
    t = ModelTable(data)
    assert t.latest("x") == "claude-x-1" and t.provider_id("claude-x-1", "bedrock") is None


def test_a_changed_shape_fails_loudly():
    data = json.loads((TABLES / "2.1.332.json").read_text())
    del data["latest_per_family"]
    with pytest.raises(ModelTableError, match="changed the table's shape"):
        ModelTable(data)
    with pytest.raises(ModelTableError, match="schema_version 2"):
        find_literal(b'{"//":"Hand-maintained baked-in model catalog",schema_version:2,models:[]}')
    with pytest.raises(ModelTableError, match="anchor"):
        find_literal(b"no table here")


def test_unknown_questions_name_what_is_known():
    t = table("2.1.197")
    with pytest.raises(ModelTableError, match="known"):
        t.latest("sonata")
    with pytest.raises(ModelTableError, match="claude-nope"):
        t.model("claude-nope")
