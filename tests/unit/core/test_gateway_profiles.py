"""Gateway profiles (gateway_profiles/litellm.yaml): loading, the harness on top, the config a cell uses, what
`ccmatrix gateway-config` prints, and how the matrix records the profile that ran."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from ccmatrix.cli import cli
from ccmatrix.contract import CellJob, CellOutcome
from ccmatrix.gateway_profiles import PROFILES_PATH, GatewayProfileError, load_profiles
from ccmatrix.manifest import load_manifest
from ccmatrix.matrix import build_matrix, json_schema, run_gateway_profile, to_json, validate_document
from ccmatrix.outcomes import TierResult, cell_from_tiers
from ccmatrix.settings import Settings, get_settings
from providers import registry
from worker.proxy_config import MASK, build_config, masked

# What LiteLLM's own Claude Code compatibility suite runs its proxy with: BerriAI/litellm
# tests/e2e/claude_code/test_config.yaml (general_settings + litellm_settings, nothing else).
LITELLM_SUITE = {"general_settings": {"forward_client_headers_to_llm_api": True},
                 "litellm_settings": {"drop_params": True, "modify_params": True}}
HARNESS = {("litellm_settings", "num_retries"): 0, ("litellm_settings", "request_timeout"): 120,
           ("router_settings", "disable_cooldowns"): True}
PROFILE_KEYS = {"drop_params", "modify_params", "forward_client_headers_to_llm_api"}


@pytest.fixture
def settings(monkeypatch, tmp_path):
    """Settings with no real credentials (every column emulated) and no CCMATRIX_GATEWAY_PROFILE."""
    for name in ("CCMATRIX_GATEWAY_PROFILE", "CCMATRIX_ANTHROPIC_API_KEY", "CCMATRIX_AWS_ACCESS_KEY_ID",
                 "CCMATRIX_AWS_SECRET_ACCESS_KEY", "CCMATRIX_VERTEX_CREDENTIALS_FILE", "CCMATRIX_VERTEX_PROJECT",
                 "CCMATRIX_AZURE_API_KEY", "CCMATRIX_AZURE_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CCMATRIX_CACHE_DIR", str(tmp_path / "cache"))
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def _config(settings, tmp_path, profile=None, providers=None, real=False):
    return build_config(load_manifest(), settings, "http://127.0.0.1:18080", tmp_path / "secrets", providers,
                        real=real, profile=profile)


def _write(tmp_path, data) -> str:
    path = tmp_path / "profiles.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


# --- the data --------------------------------------------------------------------------------------------------------


def test_recommended_is_exactly_litellms_suite_settings_and_cites_its_sources():
    profiles = load_profiles()
    assert profiles.names() == ["defaults", "recommended"]
    recommended = profiles.get("recommended")
    assert recommended.settings == LITELLM_SUITE
    sources = " ".join(recommended.sources)
    assert "BerriAI/litellm" in sources and "tests/e2e/claude_code/test_config.yaml" in sources
    assert "https://docs.litellm.ai/docs/" in sources


def test_defaults_sets_nothing():
    assert load_profiles().get("defaults").settings == {}


def test_an_unknown_profile_is_refused_naming_the_known_ones():
    with pytest.raises(GatewayProfileError, match=r"unknown gateway profile 'nope'; known: defaults, recommended"):
        load_profiles().get("nope")
    assert issubclass(GatewayProfileError, ValueError)  # the run options refuse it in one line (exit 2)


@pytest.mark.parametrize("data, where", [
    ({"gateway": "litellm", "profiles": {"p": {"description": "d", "sources": ["s"], "settings": {"model_list": {}}}}},
     "profiles.p.settings"),
    ({"gateway": "litellm", "profiles": {"p": {"description": "d", "settings": {}}}}, "profiles.p.sources"),
    ({"gateway": "litellm", "profiles": {"p": {"description": "d", "sources": ["s"]}},
      "harness": [{"setting": "num_retries", "value": 0, "reason": "r"}]}, "harness.0.setting"),
    ({"gateway": "litellm", "profiles": {"p": {"description": "d", "sources": ["s"]}},
      "harness": [{"setting": "litellm_settings.num_retries", "value": 0}]}, "harness.0.reason"),
])
def test_a_malformed_profiles_file_is_refused_naming_file_and_field(tmp_path, data, where):
    path = _write(tmp_path, data)
    with pytest.raises(GatewayProfileError) as error:
        load_profiles(path)
    assert str(error.value).startswith(f"{path}: {where}:"), error.value


def test_every_harness_setting_has_a_reason():
    report = load_profiles().harness_report()
    assert {tuple(h["setting"].split(".")): h["value"] for h in report} == HARNESS
    assert all(len(h["reason"]) > 40 for h in report)


# --- the config a cell uses --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["defaults", "recommended"])
def test_the_harness_is_applied_over_both_profiles(settings, tmp_path, profile):
    config = _config(settings, tmp_path, profile)
    for (section, key), value in HARNESS.items():
        assert config[section][key] == value, (profile, section, key)
    own = load_profiles().get(profile).settings
    for section, values in own.items():
        for key, value in values.items():
            assert config[section][key] == value
    set_here = {k for section in ("litellm_settings", "general_settings") for k in config[section]}
    assert set_here & PROFILE_KEYS == ({key for values in own.values() for key in values})
    assert config["model_list"] and set(config) == {"model_list", "litellm_settings", "general_settings",
                                                    "router_settings"}


def test_a_harness_value_wins_over_a_profiles(tmp_path):
    profiles = load_profiles(_write(tmp_path, {
        "gateway": "litellm",
        "profiles": {"retrying": {"description": "d", "sources": ["s"],
                                  "settings": {"litellm_settings": {"num_retries": 3, "drop_params": True}}}},
        "harness": [{"setting": "litellm_settings.num_retries", "value": 0, "reason": "one request, one call"}]}))
    config = profiles.apply({"model_list": []}, "retrying")
    assert config["litellm_settings"] == {"num_retries": 0, "drop_params": True}
    assert profiles.get("retrying").settings["litellm_settings"]["num_retries"] == 3  # the data is not changed


def test_the_default_profile_is_the_setting(settings, tmp_path, monkeypatch):
    default = Settings.model_fields["gateway_profile"].default  # one line in ccmatrix/settings.py picks it
    assert default in load_profiles().names()
    assert _config(settings, tmp_path) == _config(settings, tmp_path, default)
    for name in load_profiles().names():
        monkeypatch.setenv("CCMATRIX_GATEWAY_PROFILE", name)
        get_settings.cache_clear()
        assert _config(get_settings(), tmp_path) == _config(settings, tmp_path, name)
    assert _config(settings, tmp_path, "recommended")["litellm_settings"]["drop_params"] is True
    assert "drop_params" not in _config(settings, tmp_path, "defaults")["litellm_settings"]


def test_the_profile_does_not_touch_the_model_list(settings, tmp_path):
    assert _config(settings, tmp_path, "defaults")["model_list"] == _config(settings, tmp_path, "recommended")["model_list"]


# --- planning: the profile flows one way -------------------------------------------------------------------------------


def test_the_plan_names_the_profile_in_every_job_and_carries_the_harness(settings):
    from producer.plan import RunOptions, plan_run

    plan = plan_run(RunOptions(features=["basic_messaging_non_streaming"], gateway_profile="recommended"))
    assert {job.gateway_profile for job in plan.jobs} == {"recommended"}
    assert plan.gateway_profile == {"name": "recommended", "settings": LITELLM_SUITE}
    assert plan.harness == load_profiles().harness_report()
    assert {job.gateway_profile for job in plan_run(RunOptions(features=["basic_messaging_non_streaming"])).jobs} \
        == {Settings.model_fields["gateway_profile"].default}  # the setting's default
    with pytest.raises(GatewayProfileError):
        plan_run(RunOptions(gateway_profile="nope"))


def test_the_worker_records_the_profile_it_ran_with(settings):
    from worker.cell import gateway_profile_of, time_limit_outcome

    manifest = load_manifest()
    job = CellJob(run_id="r", feature="basic_messaging_non_streaming", provider=manifest.providers[0].id,
                  tiers=["haiku"], litellm_version="1", claude_code_version="2", manifest=manifest.model_dump(mode="json"),
                  gateway_profile="recommended")
    assert gateway_profile_of(job, settings) == {"name": "recommended", "settings": LITELLM_SUITE}
    assert gateway_profile_of(job.model_copy(update={"gateway_profile": None}), settings)["name"] == \
        settings.gateway_profile
    assert gateway_profile_of(job.model_copy(update={"gateway_profile": "nope"}), settings) is None
    assert time_limit_outcome(job, settings).gateway_profile["name"] == "recommended"
    # an old job without the field still parses (the worker's setting applies)
    old = {k: v for k, v in job.model_dump(mode="json").items() if k != "gateway_profile"}
    assert CellJob.model_validate(old).gateway_profile is None


# --- ccmatrix gateway-config ----------------------------------------------------------------------------------------------


def _printed(args) -> tuple[str, dict]:
    result = CliRunner().invoke(cli, ["gateway-config", *args])
    assert result.exit_code == 0, result.output
    return result.stdout, yaml.safe_load(result.stdout)


def _emulator_secrets() -> set[str]:
    """Every credential the emulator issues (the constants of the provider packages and providers/_aws.py)."""
    import importlib

    found = set()
    for module in ["providers._aws", *(f"providers.{p}.credentials" for p in registry.ids())]:
        try:
            mod = importlib.import_module(module)
        except ImportError:
            continue
        found |= {v for k, v in vars(mod).items() if k.isupper() and isinstance(v, str)
                  and any(w in k for w in ("KEY", "SECRET", "TOKEN"))}
    return found


@pytest.mark.parametrize("provider", [p.id for p in load_manifest().providers])
def test_gateway_config_prints_the_cells_config_with_no_secret_value(settings, tmp_path, provider):
    text, printed = _printed(["--provider", provider, "--gateway-profile", "recommended"])
    secrets = _emulator_secrets()
    assert secrets and not [s for s in secrets if s in text]
    assert "gateway profile 'recommended'" in text
    expected = masked(_config(settings, tmp_path, "recommended", [provider]))
    # the same entries, the same api_base/endpoint: only secrets differ from what the cell's proxy reads
    assert len(printed["model_list"]) == len(expected["model_list"]) == len(load_manifest().tiers)
    for shown, built in zip(printed["model_list"], expected["model_list"]):
        shown_params = {k: v for k, v in shown["litellm_params"].items() if k != "vertex_credentials"}
        built_params = {k: v for k, v in built["litellm_params"].items() if k != "vertex_credentials"}
        assert shown_params == built_params
        assert shown["litellm_params"].get("api_base") == built["litellm_params"].get("api_base")
    for section in ("litellm_settings", "general_settings", "router_settings"):
        assert printed[section] == expected[section]
    for harness in load_profiles().harness_report():
        assert f"#   {harness['setting']}: " in text  # the harness is named, with its reason


def test_gateway_config_masks_real_credentials(monkeypatch, settings, tmp_path):
    real = {"CCMATRIX_ANTHROPIC_API_KEY": "sk-ant-real-0123456789", "CCMATRIX_AWS_ACCESS_KEY_ID": "AKIAREALREAL0000",
            "CCMATRIX_AWS_SECRET_ACCESS_KEY": "real/aws+secret", "CCMATRIX_AZURE_API_KEY": "real-azure-key-42",
            "CCMATRIX_AZURE_API_BASE": "https://my-resource.services.ai.azure.com"}
    for name, value in real.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    for provider in [p.id for p in load_manifest().providers]:
        text, printed = _printed(["--provider", provider])
        assert not [v for k, v in real.items() if "KEY" in k and v in text], provider
    text, printed = _printed(["--provider", next(p.id for p in load_manifest().providers if p.route == "azure")])
    # the resource URL is configuration, not a secret: it stays
    assert {e["litellm_params"]["api_base"] for e in printed["model_list"]} == {real["CCMATRIX_AZURE_API_BASE"]}
    # the key itself is named, never written (providers.base.env_reference): shown as the reference it is
    assert {e["litellm_params"]["api_key"] for e in printed["model_list"]} == {"os.environ/CCMATRIX_AZURE_API_KEY"}


def test_masked_keeps_environment_references_and_everything_else():
    config = {"model_list": [{"model_name": "m", "litellm_params": {
        "model": "anthropic/x", "api_key": "os.environ/ANTHROPIC_API_KEY", "api_base": "https://h/sk-live-1",
        "aws_secret_access_key": "s3cr3t", "aws_session_token": "tok", "max_tokens": 5, "vertex_project": "p"}}],
        "general_settings": {"master_key": "sk-master", "forward_client_headers_to_llm_api": True}}
    shown = masked(config, ["sk-live-1"])
    params = shown["model_list"][0]["litellm_params"]
    assert params == {"model": "anthropic/x", "api_key": "os.environ/ANTHROPIC_API_KEY", "api_base": "https://h/***",
                      "aws_secret_access_key": MASK, "aws_session_token": MASK, "max_tokens": 5, "vertex_project": "p"}
    assert shown["general_settings"] == {"master_key": MASK, "forward_client_headers_to_llm_api": True}
    assert config["model_list"][0]["litellm_params"]["aws_secret_access_key"] == "s3cr3t"  # a copy


# --- the matrix records it ---------------------------------------------------------------------------------------------


RECOMMENDED = {"name": "recommended", "settings": LITELLM_SUITE}


def _cells(selection, profile=RECOMMENDED):
    return [CellOutcome(**cell_from_tiers(f, p, {t: TierResult.passed() for t in selection.tiers}).model_dump(),
                        upstream="emulator", gateway_profile=profile)
            for f in selection.features for p in selection.providers]


def _document(cells, selection, **kw):
    matrix = build_matrix(load_manifest(), selection, cells, run_id="r", litellm_version="1", claude_code_version="2",
                          generated_at=datetime(2026, 1, 1, tzinfo=timezone.utc), **kw)
    return json.loads(to_json(matrix))


def test_the_matrix_records_the_profile_and_its_schema_knows_the_field():
    selection = load_manifest().select(["basic_messaging_non_streaming"], None, ["haiku"])
    document = _document(_cells(selection), selection)
    assert document["gateway_profile"] == RECOMMENDED
    validate_document(document)
    schema = json_schema()
    assert "gateway_profile" in schema["properties"] and "gateway_profile" not in schema.get("required", [])
    bad = {**document, "gateway_profile": {**RECOMMENDED, "harness": []}}
    with pytest.raises(jsonschema.ValidationError):
        validate_document(bad)  # closed: {name, settings} only
    with pytest.raises(jsonschema.ValidationError):
        validate_document({**document, "gateway_profile": {"settings": {}}})  # a name is required
    old = {k: v for k, v in document.items() if k != "gateway_profile"}
    validate_document(old)  # documents written before the field stay valid
    silent = _document(_cells(selection, None), selection)
    assert "gateway_profile" not in silent  # no cell said: the matrix claims none


def test_run_gateway_profile_names_every_disagreement():
    selection = load_manifest().select(["basic_messaging_non_streaming", "tool_use"], None, ["haiku"])
    cells = _cells(selection)
    assert run_gateway_profile(cells, RECOMMENDED) == (RECOMMENDED, [])
    defaults = {"name": "defaults", "settings": {}}
    profile, problems = run_gateway_profile(cells, defaults)
    assert profile == RECOMMENDED and problems == [
        f"gateway profile: requested 'defaults' {{}}, the workers ran 'recommended' {LITELLM_SUITE}"]
    mixed = cells[:1] + [c.model_copy(update={"gateway_profile": defaults}) for c in cells[1:2]] + \
        [c.model_copy(update={"gateway_profile": None}) for c in cells[2:3]] + cells[3:]
    profile, problems = run_gateway_profile(mixed, RECOMMENDED)
    assert profile == RECOMMENDED
    assert "cells ran with different gateway profiles: {'defaults': 1, 'recommended': " in problems[0]
    assert problems[1] == f"1 of {len(cells)} cell(s) did not report their gateway profile"
    assert run_gateway_profile([c.model_copy(update={"gateway_profile": None}) for c in cells]) == (None, [])


def test_the_callback_publishes_the_profile_and_the_harness(settings, tmp_path, monkeypatch):
    from producer import callback
    from producer.plan import RunOptions, plan_run

    monkeypatch.setenv("CCMATRIX_OUT_DIR", str(tmp_path / "out"))
    get_settings.cache_clear()
    plan = plan_run(RunOptions(features=["basic_messaging_non_streaming"], tiers=["haiku"],
                               gateway_profile="recommended"))
    results = [CellOutcome(**cell_from_tiers(j.feature, j.provider, {"haiku": TierResult.passed()}).model_dump(),
                           upstream="emulator", gateway_profile=RECOMMENDED).model_dump(mode="json") for j in plan.jobs]
    summary = callback.finish(results, plan.model_dump(mode="json", exclude={"jobs"}))
    assert summary["published"] is True, summary
    document = json.loads((tmp_path / "out" / "compatibility-matrix.json").read_text())
    assert document["gateway_profile"] == RECOMMENDED
    assert document["report"]["harness"] == load_profiles().harness_report()
    assert document["report"]["problems"] == []
    jsonschema.validate(document, json.loads((tmp_path / "out" / "compatibility-matrix.schema.json").read_text()))
    assert '"gateway_profile": {"name": "recommended"' in (tmp_path / "out" / "index.html").read_text()  # embedded


def test_the_profiles_file_is_where_the_docs_say():
    assert PROFILES_PATH.relative_to(PROFILES_PATH.parents[1]).as_posix() == "gateway_profiles/litellm.yaml"
