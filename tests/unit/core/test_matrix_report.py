"""providers_detail (how each column ran) and the run report's attribution (causes, emulator_gaps), from the
cells to the published document."""
import json
from datetime import datetime, timezone

import jsonschema
import pytest

from ccmatrix.manifest import load_manifest
from ccmatrix.matrix import build_matrix, cause_report, column_upstreams, to_json, validate_document
from ccmatrix.outcomes import Evidence, TierResult, UpstreamCall, cell_from_tiers
from producer import callback
from producer.plan import RunOptions, plan_run
from ccmatrix.contract import CellOutcome

GAP = "emulator gap: POST /model/m/converse (501): the emulator does not know 'output_config'"


def outcome(feature, provider, tiers, upstream="emulator", gateway_profile=None):
    return CellOutcome(**cell_from_tiers(feature, provider, tiers).model_dump(), upstream=upstream,
                       gateway_profile=gateway_profile)


def passed():
    return {"haiku": TierResult.passed(duration_ms=5)}


def selection_of(features, providers):
    manifest = load_manifest()
    return manifest, manifest.select(features, providers, ["haiku"])


def build(cells, features, providers, **kw):
    manifest, selection = selection_of(features, providers)
    return build_matrix(manifest, selection, cells, run_id="r", litellm_version="1", claude_code_version="2",
                        generated_at=datetime(2026, 1, 1, tzinfo=timezone.utc), **kw)


# ---- providers_detail --------------------------------------------------------------------------------------------

def test_providers_detail_comes_from_the_cells_and_keeps_the_providers_list():
    cells = [outcome(f, p, passed(), upstream="real" if p == "azure" else "emulator")
             for f in ("tool_use", "vision") for p in ("anthropic", "azure")]
    document = json.loads(to_json(build(cells, ["tool_use", "vision"], ["anthropic", "azure"])))
    validate_document(document)
    assert document["providers"] == ["anthropic", "azure"]  # schema-v1 consumers read this list unchanged
    # (each column also names the model id it was tested with per tier: tests/unit/core/test_tiers.py)
    detail = {p: {k: v for k, v in d.items() if k != "models"} for p, d in document["providers_detail"].items()}
    assert detail == {"anthropic": {"upstream": "emulator", "name": "Anthropic"},
                      "azure": {"upstream": "real", "name": "Azure AI Foundry"}}


def test_cells_that_disagree_make_the_column_mixed_and_a_problem():
    cells = [outcome("tool_use", "anthropic", passed(), "emulator"), outcome("vision", "anthropic", passed(), "real"),
             outcome("tool_use", "azure", passed(), "emulator"), outcome("vision", "azure", passed(), "emulator")]
    upstreams, problems = column_upstreams(cells, ["anthropic", "azure"])
    assert upstreams == {"anthropic": "mixed", "azure": "emulator"}
    assert len(problems) == 1 and "anthropic" in problems[0] and "'emulator': 1" in problems[0] and "'real': 1" in problems[0]


def test_a_cell_that_does_not_say_makes_the_column_unknown_and_a_problem():
    cells = [outcome("tool_use", "anthropic", passed(), "emulator"), outcome("vision", "anthropic", passed(), None),
             cell_from_tiers("tool_use", "azure", passed())]  # a plain CellResult has no upstream at all
    upstreams, problems = column_upstreams(cells, ["anthropic", "azure"])
    assert upstreams == {"anthropic": "unknown", "azure": "unknown"}
    assert any("anthropic: 1 of 2 cell(s) did not report their upstream (vision)" in p for p in problems)
    assert any("azure: 1 of 1" in p for p in problems)


def test_schema_validates_providers_detail():
    cells = [outcome("tool_use", "anthropic", passed())]
    document = json.loads(to_json(build(cells, ["tool_use"], ["anthropic"])))
    validate_document(document)
    for bad in ({"upstream": "simulated", "name": "Anthropic"},  # not an upstream we know
                {"upstream": "emulator"},  # name is required
                {"upstream": "emulator", "name": "Anthropic", "colour": "red"},  # closed to unknown keys
                "emulator"):
        broken = json.loads(json.dumps(document))
        broken["providers_detail"]["anthropic"] = bad
        with pytest.raises(jsonschema.ValidationError):
            validate_document(broken)


def test_a_document_written_before_providers_detail_still_validates():
    cells = [outcome("tool_use", "anthropic", passed())]
    document = json.loads(to_json(build(cells, ["tool_use"], ["anthropic"])))
    del document["providers_detail"]
    validate_document(document)  # optional for old documents; build_matrix always writes it


def test_the_tier_detail_schema_carries_cause_and_gateway_response():
    tiers = {"haiku": TierResult.failed("refused", evidence=Evidence(gateway_response={"status": 400, "body": "no"}))}
    document = json.loads(to_json(build([outcome("tool_use", "anthropic", tiers)], ["tool_use"], ["anthropic"])))
    validate_document(document)
    tier = document["features"][0]["providers"]["anthropic"]["tiers"]["haiku"]
    assert tier["cause"] == "gateway" and tier["evidence"]["gateway_response"] == {"status": 400, "body": "no"}
    tier["cause"] = "cosmic_rays"
    with pytest.raises(jsonschema.ValidationError):
        validate_document(document)
    tier["cause"] = "gateway"
    tier["evidence"]["gateway_response"] = {"body": "no status"}
    with pytest.raises(jsonschema.ValidationError):
        validate_document(document)


# ---- causes and emulator_gaps -----------------------------------------------------------------------------------

def test_cause_report_counts_non_pass_tiers_and_lists_emulator_gaps():
    gap_call = UpstreamCall(method="POST", path="/model/m/converse", status=501, cause="emulator_gap",
                            reason="unknown field 'output_config'")
    cells = [
        outcome("tool_use", "anthropic", {"haiku": TierResult.passed(), "sonnet": TierResult.failed("refused"),
                                          "opus": TierResult.errored("overloaded (529)", cause="provider")}),
        outcome("tool_use", "bedrock_converse", {
            "haiku": TierResult.errored(GAP, cause="emulator_gap", evidence=Evidence(upstream_calls=[gap_call])),
            "sonnet": TierResult.not_applicable("no such model"),
            "opus": TierResult.not_tested("needs the emulator's capture")}),
        outcome("vision", "azure", {"haiku": TierResult(status="error", error="an old worker: no cause")}),
    ]
    report = cause_report(cells)
    assert report["causes"] == {"gateway": 1, "provider": 1, "infrastructure": 1, "emulator_gap": 1, "client": 0,
                                "unattributed": 1}  # pass and not_applicable tiers are not counted
    assert report["emulator_gaps"] == [{"feature": "tool_use", "provider": "bedrock_converse", "tier": "haiku",
                                        "reason": GAP}]


def test_an_emulator_gap_without_an_error_text_takes_the_emulators_reason():
    call = UpstreamCall(method="POST", path="/x", status=501, cause="emulator_gap", reason="route /x is unknown")
    tier = TierResult(status="error", cause="emulator_gap", evidence=Evidence(upstream_calls=[call]))
    assert cause_report([outcome("tool_use", "azure", {"haiku": tier})])["emulator_gaps"][0]["reason"] == \
        "route /x is unknown"


def test_cause_report_of_a_clean_run_is_present_and_empty():
    report = cause_report([outcome("tool_use", "anthropic", passed())])
    assert report == {"causes": {"gateway": 0, "provider": 0, "infrastructure": 0, "emulator_gap": 0, "client": 0},
                      "emulator_gaps": []}


# ---- the chord callback writes them -----------------------------------------------------------------------------

@pytest.fixture()
def out_dir(tmp_path, monkeypatch):
    from ccmatrix.settings import get_settings

    monkeypatch.setenv("CCMATRIX_OUT_DIR", str(tmp_path / "out"))
    get_settings.cache_clear()
    yield tmp_path / "out"
    get_settings.cache_clear()


def _run(features, providers):
    plan = plan_run(RunOptions(features=features, providers=providers, tiers=["haiku"]))
    return plan, plan.model_dump(mode="json", exclude={"jobs"})


def test_the_callback_publishes_providers_detail_causes_and_emulator_gaps(out_dir):
    plan, run = _run(["tool_use", "vision"], ["anthropic", "azure"])
    results = []
    for job in plan.jobs:
        if (job.feature, job.provider) == ("vision", "azure"):
            tiers = {"haiku": TierResult.errored(GAP, cause="emulator_gap")}
        else:
            tiers = passed()
        results.append(outcome(job.feature, job.provider, tiers, upstream="real" if job.provider == "anthropic"
                               else "emulator", gateway_profile=plan.gateway_profile).model_dump(mode="json"))
    summary = callback.finish(results, run)
    assert summary["published"] is True, summary
    document = json.loads((out_dir / "compatibility-matrix.json").read_text())
    assert document["providers_detail"]["anthropic"]["upstream"] == "real"
    assert document["providers_detail"]["azure"] == {"upstream": "emulator", "name": "Azure AI Foundry",
                                                     "models": {"haiku": "claude-haiku-4-5"}}  # the run's tier
    report = document["report"]
    assert report["emulator_gaps"] == [{"feature": "vision", "provider": "azure", "tier": "haiku", "reason": GAP}]
    assert report["causes"]["emulator_gap"] == 1 and sum(report["causes"].values()) == 1
    assert report["problems"] == []
    schema = json.loads((out_dir / "compatibility-matrix.schema.json").read_text())
    jsonschema.validate(document, schema)  # the schema published next to it knows the new fields
    assert "providers_detail" in schema["properties"]


def test_the_callback_reports_a_column_whose_cells_disagree(out_dir):
    plan, run = _run(["tool_use", "vision"], ["anthropic"])
    results = [outcome(j.feature, j.provider, passed(), upstream="real" if j.feature == "vision" else "emulator")
               .model_dump(mode="json") for j in plan.jobs]
    summary = callback.finish(results, run)
    assert summary["published"] is True, summary
    document = json.loads((out_dir / "compatibility-matrix.json").read_text())
    assert document["providers_detail"]["anthropic"]["upstream"] == "mixed"
    assert any("anthropic" in p and "different upstreams" in p for p in document["report"]["problems"])
    assert document["report"]["emulator_gaps"] == []
