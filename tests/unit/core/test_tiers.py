"""Tiers follow the CLI under test: policies (`latest`, `alias`) and columns without models resolved from the model
table of the Claude Code version, once, when a run is planned (ccmatrix/tiers.py); explicit ids unchanged;
`--tier-models` overrides; a model a provider does not offer is a not_applicable tier with the table's reason."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner

from ccmatrix import tiers
from ccmatrix.contract import CellJob
from ccmatrix.manifest import ManifestError, load_manifest, parse_manifest
from ccmatrix.matrix import build_matrix, to_json, validate_document
from ccmatrix.model_table import PROVIDER_KINDS, ModelTable
from ccmatrix.outcomes import Status, TierResult, cell_from_tiers
from ccmatrix.contract import CellOutcome
from providers import registry
from providers.base import ANTHROPIC_API_MODE

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
POLICIES = FIXTURES / "manifests" / "tier_policies.yaml"


def table(version: str) -> ModelTable:
    return ModelTable(json.loads((FIXTURES / "model_tables" / f"{version}.json").read_text()))


def policies(**changes) -> dict:
    data = yaml.safe_load(POLICIES.read_text())
    data["tiers"].update(changes)
    return data


def resolved(version: str, data: dict | None = None, overrides=None):
    manifest = parse_manifest(data or policies(), "test manifest")
    return tiers.resolve(manifest, version, table(version), overrides)


def models(resolution, tier: str) -> dict[str, str | None]:
    return {p.id: p.models[tier] for p in resolution.manifest.providers}


# --- the provider packages say where they sit in the table ---------------------------------------------------------


def test_every_provider_package_names_its_model_table_kind_and_alias_kind():
    expected = {"anthropic": ("first_party", "gateway"), "bedrock_invoke": ("bedrock", "gateway"),
                "bedrock_converse": ("bedrock", "gateway"), "bedrock_passthrough": ("bedrock", "bedrock"),
                "vertex_ai": ("vertex", "gateway"), "vertex_passthrough": ("vertex", "vertex"),
                "azure": ("foundry", "gateway")}
    for provider in registry.all():
        assert provider.model_table_kind in PROVIDER_KINDS and provider.alias_kind in PROVIDER_KINDS, provider.id
        native = provider.client_env_vars != ANTHROPIC_API_MODE  # the CLI in its native mode: its own alias kind
        assert provider.alias_kind == (provider.model_table_kind if native else "gateway"), provider.id
        if provider.id in expected:
            assert (provider.model_table_kind, provider.alias_kind) == expected[provider.id]


# --- latest --------------------------------------------------------------------------------------------------------


def test_latest_on_2_1_332_is_the_5_5_family_in_each_providers_shape():
    r = resolved("2.1.332")
    assert r.manifest.tiers["sonnet"] == "claude-sonnet-5-5" and r.manifest.tiers["haiku"] == "claude-haiku-5-5"
    assert models(r, "sonnet") == {
        "anthropic": "claude-sonnet-5-5", "bedrock_invoke": "us.anthropic.claude-sonnet-5-5",
        "bedrock_converse": "us.anthropic.claude-sonnet-5-5", "vertex_ai": "claude-sonnet-5-5",
        "azure": "claude-sonnet-5-5", "bedrock_passthrough": "us.anthropic.claude-sonnet-5-5",
        "vertex_passthrough": "claude-sonnet-5-5"}
    # haiku 5.5 has no `gateway` id in the table, but no column is of that kind: offered on every column
    assert None not in models(r, "haiku").values()
    assert r.tiers["sonnet"] == {"policy": "latest", "requested": "latest", "model": "claude-sonnet-5-5",
                                 "source": "manifest", "model_table": "2.1.332", "table_model": "claude-sonnet-5-5"}
    assert r.manifest.unresolved() == []
    assert r.manifest.proxy_alias("sonnet", "azure") == "claude-sonnet-5-5-azure"


def test_latest_on_2_1_197_gives_the_dated_ids():
    r = resolved("2.1.197")
    assert r.manifest.tiers == {"haiku": "claude-haiku-4-5-20251001", "sonnet": "claude-sonnet-5",
                                "opus": "claude-opus-4-7"}  # opus: the gateway alias
    assert models(r, "haiku") == {
        "anthropic": "claude-haiku-4-5-20251001", "bedrock_invoke": "us.anthropic.claude-haiku-4-5-20251001-v1:0",
        "bedrock_converse": "us.anthropic.claude-haiku-4-5-20251001-v1:0", "vertex_ai": "claude-haiku-4-5@20251001",
        "azure": "claude-haiku-4-5", "bedrock_passthrough": "us.anthropic.claude-haiku-4-5-20251001-v1:0",
        "vertex_passthrough": "claude-haiku-4-5@20251001"}
    assert models(r, "sonnet")["bedrock_invoke"] == "us.anthropic.claude-sonnet-5"


# --- alias ---------------------------------------------------------------------------------------------------------


def test_alias_resolves_per_client_mode_on_2_1_332():
    r = resolved("2.1.332")
    assert r.manifest.tiers["opus"] == "claude-opus-4-7"  # the CLI's `opus` for a gateway user
    assert models(r, "opus") == {
        "anthropic": "claude-opus-4-7", "bedrock_invoke": "us.anthropic.claude-opus-4-7",
        "bedrock_converse": "us.anthropic.claude-opus-4-7", "vertex_ai": "claude-opus-4-7", "azure": "claude-opus-4-7",
        # the pass-through columns run the CLI in its native mode: its Bedrock / Vertex alias
        "bedrock_passthrough": "us.anthropic.claude-opus-5-5", "vertex_passthrough": "claude-opus-5-5"}
    passthrough = r.manifest.provider("bedrock_passthrough")
    assert passthrough.api_models == {"opus": "claude-opus-5-5"}
    assert r.manifest.provider("anthropic").api_models == {}
    # the CLI is told the model the column really tests (it shapes its request by the name)
    assert r.manifest.proxy_alias("opus", "bedrock_passthrough") == "claude-opus-5-5-bedrock-passthrough"
    assert r.manifest.proxy_alias("opus", "bedrock_invoke") == "claude-opus-4-7-bedrock-invoke"


def test_alias_on_2_1_197():
    r = resolved("2.1.197", policies(sonnet="alias"))
    assert r.manifest.tiers["sonnet"] == "claude-sonnet-4-6"
    sonnet = models(r, "sonnet")
    assert sonnet["anthropic"] == "claude-sonnet-4-6" and sonnet["azure"] == "claude-sonnet-4-6"
    assert sonnet["bedrock_passthrough"] == "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    assert sonnet["vertex_passthrough"] == "claude-sonnet-4-5@20250929"


# --- not offered ---------------------------------------------------------------------------------------------------


def test_a_first_party_only_family_is_not_offered_elsewhere_with_the_tables_reason():
    # (2.1.332's latest_per_family names no mythos model: `latest` is refused for it, see the refusals below)
    r = resolved("2.1.332", policies(mythos="claude-mythos-5-2"))
    mythos = models(r, "mythos")
    assert mythos["anthropic"] == "claude-mythos-5-2"
    assert {p: m for p, m in mythos.items() if p != "anthropic"} == dict.fromkeys(
        [p for p in mythos if p != "anthropic"], None)
    assert (r.manifest.provider("bedrock_invoke").not_offered["mythos"]
            == "Claude Code 2.1.332's model table: claude-mythos-5-2 is not offered on bedrock")
    assert "not offered on foundry" in r.manifest.provider("azure").not_offered["mythos"]
    # the concrete manifest round-trips through a job (null models kept)
    again = parse_manifest(r.manifest.model_dump(mode="json", exclude_none=True), "job manifest")
    assert again.provider_model("mythos", "vertex_ai") is None


# --- explicit ids and explicit models ------------------------------------------------------------------------------


def test_explicit_ids_everywhere_need_no_table_and_stay_unchanged():
    manifest = load_manifest()
    assert not tiers.needs_table(manifest)
    r = tiers.resolve(manifest, manifest.claude_code_version, None)
    assert r.manifest.tiers == manifest.tiers
    assert [p.models for p in r.manifest.providers] == [p.models for p in manifest.providers]
    assert r.tiers["sonnet"] == {"policy": "explicit", "requested": manifest.tiers["sonnet"],
                                 "model": manifest.tiers["sonnet"], "source": "manifest"}


def test_explicit_models_win_over_derivation():
    data = policies()
    data["providers"][4]["models"] = {"haiku": "my-haiku", "sonnet": "my-sonnet", "opus": "my-opus"}
    r = resolved("2.1.332", data)
    assert r.manifest.provider(data["providers"][4]["id"]).models == {"haiku": "my-haiku", "sonnet": "my-sonnet",
                                                                        "opus": "my-opus"}
    assert models(r, "sonnet")["anthropic"] == "claude-sonnet-5-5"  # the other columns still derived


def test_an_explicit_tier_id_with_a_column_omitting_models_is_derived():
    data = policies(haiku="claude-haiku-4-5-20251001", sonnet="claude-sonnet-4-5")
    r = resolved("2.1.332", data)
    assert r.manifest.tiers["haiku"] == "claude-haiku-4-5-20251001"  # explicit ids stay as written
    assert r.manifest.tiers["sonnet"] == "claude-sonnet-4-5"
    assert models(r, "haiku")["vertex_ai"] == "claude-haiku-4-5@20251001"
    assert models(r, "sonnet")["bedrock_converse"] == "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    assert r.tiers["haiku"]["policy"] == "explicit" and r.tiers["haiku"]["table_model"] == "claude-haiku-4-5"


# --- refusals: one line, the tier named ----------------------------------------------------------------------------


@pytest.mark.parametrize("change, words", [
    ({"nosuch": "latest"}, ["tiers.nosuch", "no family 'nosuch'", "2.1.332"]),
    ({"nosuch": "alias"}, ["tiers.nosuch", "no alias 'nosuch'"]),
    ({"mythos": "latest"}, ["tiers.mythos", "names no latest one", "name the model explicitly"]),
    ({"mythos": "alias"}, ["tiers.mythos", "no alias 'mythos'"]),
    ({"sonnet": "claude-sonnet-9-9"}, ["tiers.sonnet", "'claude-sonnet-9-9'", "providers.anthropic"]),
])
def test_an_unknown_family_or_model_is_refused_in_one_line(change, words):
    with pytest.raises(ManifestError) as caught:
        resolved("2.1.332", policies(**change))
    message = str(caught.value)
    assert "\n" not in message and all(w in message for w in words), message


def test_a_policy_without_a_table_is_refused():
    with pytest.raises(ManifestError, match="needs Claude Code 2.1.332's model table"):
        tiers.resolve(parse_manifest(policies(), "m"), "2.1.332", None)


def test_manifest_rules_for_null_models_and_policies():
    data = policies()
    data["providers"][0]["models"] = {"haiku": None, "sonnet": "s", "opus": "o"}
    with pytest.raises(ManifestError, match="needs a reason"):
        parse_manifest(data)
    data["providers"][0]["not_offered"] = {"haiku": "not sold here"}
    assert parse_manifest(data).providers[0].models["haiku"] is None
    data["providers"][0]["models"] = {"haiku": "h"}  # a partial map is a mistake: every tier, or none
    with pytest.raises(ManifestError, match="missing tier"):
        parse_manifest(data)
    with pytest.raises(ManifestError, match="policy"):
        parse_manifest(policies(haiku="newest"))


# --- --tier-models -------------------------------------------------------------------------------------------------


def test_tier_models_override_one_run_from_the_table():
    manifest = load_manifest()
    overrides = {"sonnet": "claude-sonnet-5-5"}
    assert tiers.needs_table(manifest, overrides)
    r = tiers.resolve(manifest, "2.1.332", table("2.1.332"), overrides)
    assert r.manifest.tiers["sonnet"] == "claude-sonnet-5-5"
    assert models(r, "sonnet")["bedrock_invoke"] == "us.anthropic.claude-sonnet-5-5"
    assert models(r, "haiku") == {p.id: p.models["haiku"] for p in manifest.providers}  # the rest unchanged
    assert r.tiers["sonnet"]["source"] == "--tier-models" and r.tiers["haiku"]["source"] == "manifest"


def test_pinned_reproducibility_overrides_by_table_id():
    """The issue's acceptance run: 2.1.197 with haiku=claude-haiku-4-5,sonnet=claude-sonnet-4-5,opus=claude-opus-4-5."""
    overrides = tiers.parse_overrides(["haiku=claude-haiku-4-5", "sonnet=claude-sonnet-4-5", "opus=claude-opus-4-5"])
    r = resolved("2.1.197", overrides=overrides)
    assert r.manifest.tiers == {"haiku": "claude-haiku-4-5", "sonnet": "claude-sonnet-4-5", "opus": "claude-opus-4-5"}
    assert models(r, "opus")["bedrock_invoke"] == "us.anthropic.claude-opus-4-5-20251101-v1:0"
    assert models(r, "opus")["anthropic"] == "claude-opus-4-5-20251101"


def test_an_override_the_table_lacks_falls_back_on_the_manifests_explicit_ids_else_is_refused():
    manifest = load_manifest()
    r = tiers.resolve(manifest, "2.1.332", table("2.1.332"), {"sonnet": "claude-sonnet-9"})
    assert r.manifest.tiers["sonnet"] == "claude-sonnet-9"
    assert models(r, "sonnet") == {p.id: p.models["sonnet"] for p in manifest.providers}
    with pytest.raises(ManifestError) as caught:
        resolved("2.1.332", overrides={"sonnet": "claude-sonnet-9"})
    assert "--tier-models sonnet=claude-sonnet-9" in str(caught.value) and "providers.anthropic" in str(caught.value)


def test_tier_models_parsing_and_unknown_tiers():
    assert tiers.parse_overrides(None) is None
    for bad in (["sonnet"], ["=x"], ["sonnet=a", "sonnet=b"]):
        with pytest.raises(ValueError, match="--tier-models"):
            tiers.parse_overrides(bad)
    with pytest.raises(ManifestError, match=r"unknown tier\(s\) \['fast'\]"):
        resolved("2.1.332", overrides={"fast": "claude-haiku-5-5"})
    with pytest.raises(ManifestError, match="not a Claude model id"):
        resolved("2.1.332", overrides={"haiku": "gpt-4"})


def test_tier_models_on_the_command_line_is_refused_before_anything_runs():
    from ccmatrix.cli import cli

    result = CliRunner().invoke(cli, ["run", "--tier-models", "sonnet"])
    assert result.exit_code == 2 and "is not TIER=MODEL" in result.output
    from ccmatrix import options

    with pytest.raises(click.exceptions.Exit) as caught:
        options.plan_or_refuse(None, tier_models={"fast": "claude-haiku-4-5"})
    assert caught.value.exit_code == 2


# --- planning: once, from the resolved version's table, only when needed --------------------------------------------


def test_plan_resolves_policies_from_the_resolved_versions_table(monkeypatch):
    from producer import plan as plan_module

    asked = []
    monkeypatch.setattr(plan_module, "model_table", lambda v: asked.append(v) or table(v))
    plan = plan_module.plan_run(plan_module.RunOptions(features=["tool_use"], providers=["azure", "bedrock_invoke"]),
                                manifest_path=POLICIES)
    assert asked == ["2.1.332"]
    job = plan.jobs[0]
    concrete = parse_manifest(job.manifest, "job manifest")
    assert concrete.tiers["haiku"] == "claude-haiku-5-5" and concrete.unresolved() == []
    assert concrete.provider_model("sonnet", "bedrock_invoke") == "us.anthropic.claude-sonnet-5-5"
    assert plan.tier_models["opus"]["policy"] == "alias" and plan.tier_models["opus"]["model"] == "claude-opus-4-7"

    asked.clear()
    plan = plan_module.plan_run(plan_module.RunOptions(features=["tool_use"]))  # the shipped manifest: explicit ids
    assert asked == [] and plan.tier_models["sonnet"]["policy"] == "explicit"
    plan = plan_module.plan_run(plan_module.RunOptions(features=["tool_use"], claude_code_version="2.1.332",
                                                       tier_models={"sonnet": "claude-sonnet-5-5"}))
    assert asked == ["2.1.332"]
    assert parse_manifest(plan.jobs[0].manifest, "m").tiers["sonnet"] == "claude-sonnet-5-5"


# --- the worker: a null model is a not_applicable tier; no deployment for it ------------------------------------------


@pytest.fixture
def settings(monkeypatch, tmp_path):
    from ccmatrix.settings import get_settings

    for name in ("CCMATRIX_ANTHROPIC_API_KEY", "CCMATRIX_AWS_ACCESS_KEY_ID", "CCMATRIX_AWS_SECRET_ACCESS_KEY",
                 "CCMATRIX_VERTEX_CREDENTIALS_FILE", "CCMATRIX_VERTEX_PROJECT", "CCMATRIX_AZURE_API_KEY",
                 "CCMATRIX_AZURE_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CCMATRIX_CACHE_DIR", str(tmp_path / "cache"))
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def test_a_null_model_is_a_not_applicable_tier_in_the_worker(settings):
    from worker.cell import run_cell

    r = resolved("2.1.332", policies(mythos="claude-mythos-5-2"))
    job = CellJob(run_id="t", feature="tool_use", provider="bedrock_invoke", tiers=["mythos"],
                  litellm_version="1.106.2", claude_code_version="2.1.332",
                  manifest=r.manifest.model_dump(mode="json", exclude_none=True))
    outcome = run_cell(job, settings)
    tier = outcome.tiers["mythos"]
    assert tier.status == Status.NOT_APPLICABLE and outcome.status == Status.NOT_APPLICABLE
    assert tier.reason == "Claude Code 2.1.332's model table: claude-mythos-5-2 is not offered on bedrock"


def test_the_gateway_config_has_no_deployment_for_a_null_model(settings, tmp_path):
    from worker.proxy_config import build_config

    r = resolved("2.1.332", policies(mythos="claude-mythos-5-2"))
    config = build_config(r.manifest, settings, "http://127.0.0.1:18080", tmp_path / "secrets")
    names = [e["model_name"] for e in config["model_list"]]
    assert "claude-mythos-5-2-anthropic" in names
    assert not [n for n in names if n.startswith("claude-mythos") and not n.endswith("-anthropic")]
    assert "claude-opus-5-5-bedrock-passthrough" in names and "claude-opus-4-7-bedrock-invoke" in names
    assert len(names) == 3 * len(r.manifest.providers) + 1


# --- the matrix: per column and tier, the model it was tested with ---------------------------------------------------


def test_the_matrix_json_carries_each_columns_models_and_the_tier_policies():
    r = resolved("2.1.332", policies(mythos="claude-mythos-5-2"))
    manifest = r.manifest
    selection = manifest.select(["tool_use"], ["anthropic", "bedrock_invoke"], None)
    cells = [CellOutcome(**cell_from_tiers("tool_use", p, {
        t: (TierResult.not_applicable(manifest.provider(p).not_offered[t]) if manifest.provider_model(t, p) is None
            else TierResult.passed()) for t in selection.tiers}).model_dump(), upstream="emulator")
        for p in selection.providers]
    matrix = build_matrix(manifest, selection, cells, run_id="r", litellm_version="1.106.2",
                          claude_code_version="2.1.332", tier_models=r.tiers)
    document = json.loads(to_json(matrix))
    validate_document(document)
    assert document["providers_detail"]["bedrock_invoke"]["models"] == {
        "haiku": "us.anthropic.claude-haiku-5-5", "sonnet": "us.anthropic.claude-sonnet-5-5",
        "opus": "us.anthropic.claude-opus-4-7", "mythos": None}
    assert document["providers_detail"]["anthropic"]["models"]["mythos"] == "claude-mythos-5-2"
    assert document["tier_models"]["opus"] == {"model": "claude-opus-4-7", "policy": "alias", "requested": "alias",
                                               "source": "manifest", "model_table": "2.1.332",
                                               "table_model": "claude-opus-4-7"}
    assert document["tiers"] == ["haiku", "sonnet", "opus", "mythos"]  # v1's list, unchanged
    # a v1 document written before the fields still validates
    older = copy.deepcopy(document)
    del older["tier_models"]
    for detail in older["providers_detail"].values():
        del detail["models"]
    validate_document(older)
