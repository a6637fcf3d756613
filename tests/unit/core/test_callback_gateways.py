"""The chord callback of a run with two gateways (issue 17): one matrix per gateway, LiteLLM's at its usual path,
an index listing both, history and regressions per gateway; a partial or invalid set publishes nothing.

The outcomes are made here as a worker would return them (stand-in plug-ins: tests/gateway_standins.py)."""
from __future__ import annotations

import json

import pytest

from ccmatrix.contract import CellOutcome
from ccmatrix.matrix import validate_document
from ccmatrix.outcomes import TierResult
from producer import callback
from producer.plan import RunOptions, plan_run
from tests.gateway_standins import plugins  # noqa: F401 (a fixture)

FEATURES, PROVIDERS = ["tool_use", "vision"], ["anthropic", "bedrock_invoke"]


@pytest.fixture()
def out_dir(tmp_path, monkeypatch):
    from ccmatrix.settings import get_settings

    monkeypatch.setenv("CCMATRIX_OUT_DIR", str(tmp_path / "out"))
    monkeypatch.delenv("CCMATRIX_HISTORY_DIR", raising=False)
    get_settings.cache_clear()
    yield tmp_path / "out"
    get_settings.cache_clear()


def _plan(plugins):
    plan = plan_run(RunOptions(features=FEATURES, providers=PROVIDERS, tiers=["haiku"],
                               gateways=["litellm", "portkey@1.15.2"]))
    return plan, plan.model_dump(mode="json", exclude={"jobs"})


def _results(plan, failing=()):
    """What the workers return: every enqueued cell passes, except the (gateway, feature, provider) in `failing`."""
    results = []
    for job in plan.jobs:
        tier = (TierResult.failed("the gateway dropped the tool", duration_ms=7)
                if (job.gateway, job.feature, job.provider) in failing else TierResult.passed(duration_ms=5))
        versions = ({"litellm_version": job.litellm_version} if job.gateway == "litellm"
                    else {"gateway_version": job.gateway_version})
        results.append(CellOutcome.from_tiers(job.feature, job.provider, {"haiku": tier}, gateway=job.gateway,
                                              claude_code_version=job.claude_code_version, upstream="emulator",
                                              **versions).model_dump(mode="json"))
    return results


def _read(path):
    return json.loads(path.read_text())


def test_two_gateways_publish_two_matrices_and_an_index(out_dir, plugins):
    plan, run = _plan(plugins)
    summary = callback.finish(_results(plan, failing={("portkey", "tool_use", "anthropic")}), run)
    assert summary["published"] is True, summary.get("reason")

    litellm = _read(out_dir / "compatibility-matrix.json")
    portkey = _read(out_dir / "compatibility-matrix-portkey.json")
    for document in (litellm, portkey):
        validate_document(document)
        assert document["schema_version"] == "1" and document["run_id"] == plan.run_id
    assert litellm["gateway"] == {"name": "litellm", "version": plan.litellm_version,
                                  "profile": plan.gateway_profile["name"], "display_name": "LiteLLM"}
    assert litellm["litellm_version"] == plan.litellm_version
    assert portkey["gateway"] == {"name": "portkey", "version": "1.15.2", "profile": "portkey-default",
                                  "display_name": "Portkey"}
    cells = {(row["id"], p): cell for row in portkey["features"] for p, cell in row["providers"].items()}
    assert cells[("tool_use", "anthropic")]["status"] == "fail"
    assert cells[("tool_use", "bedrock_invoke")]["status"] == "not_applicable"
    assert "has no route" in cells[("tool_use", "bedrock_invoke")]["reason"]
    assert {s["status"] for (f, p), s in _cells(litellm).items()} == {"pass"}  # LiteLLM's cells are its own
    assert "harness" in litellm["report"] and "harness" not in portkey["report"]  # LiteLLM's settings, not Portkey's

    index = _read(out_dir / "compatibility-matrix.index.json")
    assert index["run_id"] == plan.run_id
    assert [(g["name"], g["version"], g["profile"], g["file"]) for g in index["gateways"]] == [
        ("litellm", plan.litellm_version, plan.gateway_profile["name"], "compatibility-matrix.json"),
        ("portkey", "1.15.2", "portkey-default", "compatibility-matrix-portkey.json")]
    assert index["gateways"][1]["counts"] == {"pass": 1, "fail": 1, "error": 0, "not_applicable": 2, "not_tested": 0}
    assert index["gateways"][0]["counts"]["pass"] == 4
    page = (out_dir / "index.html").read_text()
    assert '"compatibility-matrix-portkey.json"' in page and "Portkey 1.15.2" in page  # tabs data, noscript heading
    assert summary["gateways"]["portkey"] == {"version": "1.15.2", "counts": {"pass": 1, "fail": 1,
                                                                              "not_applicable": 2}}


def _cells(document):
    return {(row["id"], p): cell for row in document["features"] for p, cell in row["providers"].items()}


def test_history_and_regressions_are_kept_per_gateway(out_dir, plugins):
    plan, run = _plan(plugins)
    assert callback.finish(_results(plan), run)["published"]
    plan2, run2 = _plan(plugins)
    summary = callback.finish(_results(plan2, failing={("portkey", "vision", "anthropic")}), run2)
    assert summary["published"] and summary["regression"] == "regressed"
    report = summary["report"]
    assert report["regressions"]["litellm"]["status"] == "clean"
    portkey = report["regressions"]["portkey"]
    assert portkey["status"] == "regressed" and portkey["baseline_run_id"] == plan.run_id
    assert [(c["feature"], c["provider"], c["kind"]) for c in portkey["changes"]] == [
        ("vision", "anthropic", "green_to_red")]
    history = out_dir / "history"
    assert sorted(p.name for p in (history / "runs").glob("*.json")) == sorted(
        f"{r}.json" for r in (plan.run_id, plan2.run_id))
    portkey_runs = [json.loads(p.read_text()) for p in (history / "gateways" / "portkey" / "runs").glob("*.json")]
    assert {r["matrix"]["gateway"]["name"] for r in portkey_runs} == {"portkey"} and len(portkey_runs) == 2
    portkey_md = (out_dir / "regression-report-portkey.md").read_text()
    assert "haiku: pass → fail" in portkey_md and "Portkey **1.15.2**" in portkey_md and "LiteLLM" not in portkey_md
    assert "→ fail" not in (out_dir / "regression-report.md").read_text()


def test_a_missing_cell_of_one_gateway_publishes_nothing_at_all(out_dir, plugins):
    plan, run = _plan(plugins)
    results = [r for r in _results(plan) if not (r["gateway"] == "portkey" and r["feature"] == "vision")]
    summary = callback.finish(results, run)
    assert summary["published"] is False and "partial matrix" in summary["reason"] and "portkey" in summary["reason"]
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_an_invalid_matrix_of_one_gateway_publishes_nothing_at_all(out_dir, plugins, monkeypatch):
    from ccmatrix import publish

    real = publish.validate_document

    def refuse_portkey(document):
        if document.get("gateway", {}).get("name") == "portkey":
            raise ValueError("portkey's document is broken")
        return real(document)

    monkeypatch.setattr(publish, "validate_document", refuse_portkey)
    plan, run = _plan(plugins)
    summary = callback.finish(_results(plan), run)
    assert summary["published"] is False and "portkey" in summary["reason"] and "broken" in summary["reason"]
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_results_of_a_gateway_the_run_did_not_plan_publish_nothing(out_dir, plugins):
    plan, run = _plan(plugins)
    results = _results(plan)
    results[0]["gateway"] = "kong"
    summary = callback.finish(results, run)
    assert summary["published"] is False and "kong" in summary["reason"]
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_a_litellm_only_run_keeps_the_litellm_only_outputs(out_dir):
    plan = plan_run(RunOptions(features=["tool_use"], providers=["anthropic"], tiers=["haiku"]))
    run = plan.model_dump(mode="json", exclude={"jobs"})
    summary = callback.finish(_results(plan), run)
    assert summary["published"] is True
    assert sorted(p.name for p in out_dir.iterdir() if p.is_file()) == [
        "compatibility-matrix.index.json", "compatibility-matrix.json", "compatibility-matrix.schema.json",
        "index.html", "regression-report.md"]
    assert '<script type="application/json" id="gateways-data">[]</script>' in (out_dir / "index.html").read_text()


def test_a_run_without_litellm_leaves_litellms_matrix_alone(out_dir, plugins):
    plan = plan_run(RunOptions(features=["tool_use"], providers=PROVIDERS, tiers=["haiku"], gateways=["portkey@1.15.2"]))
    summary = callback.finish(_results(plan), plan.model_dump(mode="json", exclude={"jobs"}))
    assert summary["published"] is True, summary.get("reason")
    assert not (out_dir / "compatibility-matrix.json").exists()
    index = _read(out_dir / "compatibility-matrix.index.json")
    assert [(g["name"], g["file"]) for g in index["gateways"]] == [("portkey", "compatibility-matrix-portkey.json")]
    assert _read(out_dir / "compatibility-matrix-portkey.json")["gateway"]["version"] == "1.15.2"


def test_cells_planned_without_a_route_raise_no_problem_about_what_they_did_not_report(out_dir, plugins):
    """The profile and the releases are read from the cells a worker ran; a no-route cell ran nothing."""
    plan, run = _plan(plugins)
    results = _results(plan)
    for result in results:
        result["gateway_profile"] = {"name": "portkey-default" if result["gateway"] == "portkey"
                                     else plan.gateway_profile["name"], "settings": {}}
    assert callback.finish(results, run)["published"]
    portkey = _read(out_dir / "compatibility-matrix-portkey.json")
    assert portkey["report"]["problems"] == [] and portkey["gateway_profile"]["name"] == "portkey-default"
