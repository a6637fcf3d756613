"""The chord callback is fail-closed: a partial, malformed or crashing run publishes nothing and says why."""
import pytest

from ccmatrix.outcomes import TierResult, cell_from_tiers
from producer import callback
from producer.plan import RunOptions, plan_run


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


def _results(plan):
    return [cell_from_tiers(j.feature, j.provider, {"haiku": TierResult.passed(duration_ms=5)}).model_dump(mode="json")
            for j in plan.jobs]


def test_a_complete_run_publishes(out_dir):
    plan, run = _run(["tool_use"], ["anthropic", "azure"])
    summary = callback.finish(_results(plan), run)
    assert summary["published"] is True
    assert (out_dir / "compatibility-matrix.json").exists()


def test_a_missing_cell_publishes_nothing(out_dir):
    plan, run = _run(["tool_use"], ["anthropic", "azure"])
    summary = callback.finish(_results(plan)[:1], run)
    assert summary["published"] is False and "partial matrix" in summary["reason"]
    assert not (out_dir / "compatibility-matrix.json").exists()


def test_a_malformed_result_publishes_nothing(out_dir):
    plan, run = _run(["tool_use"], ["anthropic"])
    summary = callback.finish([{"feature": "tool_use", "status": "green"}], run)
    assert summary["published"] is False and "malformed" in summary["reason"]
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_a_crashing_callback_publishes_nothing_and_says_why(out_dir, monkeypatch):
    plan, run = _run(["tool_use"], ["anthropic"])

    def boom(*_, **__):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(callback, "build_matrix", boom)
    summary = callback.finish_run.run(_results(plan), run)
    assert summary["published"] is False and "disk on fire" in summary["reason"]
    assert not (out_dir / "compatibility-matrix.json").exists()
