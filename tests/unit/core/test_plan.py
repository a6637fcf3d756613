"""Planning: one job per cell, longest-known cells first."""
import json

from producer import plan as plan_module
from producer.plan import RunOptions, plan_run, previous_durations


def test_one_job_per_cell_with_the_selected_tiers():
    plan = plan_run(RunOptions(features=["tool_use", "vision"], providers=["azure", "anthropic"], tiers=["opus"]))
    assert sorted((j.feature, j.provider) for j in plan.jobs) == [
        ("tool_use", "anthropic"), ("tool_use", "azure"), ("vision", "anthropic"), ("vision", "azure")]
    assert all(j.tiers == ["opus"] and j.run_id == plan.run_id for j in plan.jobs)


def test_jobs_are_ordered_longest_first_from_the_last_published_run(tmp_path, monkeypatch):
    document = {"features": [
        {"id": "tool_use", "providers": {"anthropic": {"tiers": {"sonnet": {"duration_ms": 900}}},
                                         "azure": {"tiers": {"sonnet": {"duration_ms": 5000}}}}},
        {"id": "vision", "providers": {"anthropic": {"tiers": {"sonnet": {"duration_ms": 100}}}}},
    ]}
    path = tmp_path / "compatibility-matrix.json"
    path.write_text(json.dumps(document))
    assert previous_durations(path)[("tool_use", "azure")] == 5000
    monkeypatch.setattr(plan_module, "previous_durations", lambda: previous_durations(path))
    plan = plan_run(RunOptions(features=["tool_use", "vision"], providers=["anthropic", "azure"]))
    order = [(j.feature, j.provider) for j in plan.jobs]
    # unknown cells (vision × azure) count as the slowest known one and keep manifest order among equals
    assert order == [("tool_use", "azure"), ("vision", "azure"), ("tool_use", "anthropic"), ("vision", "anthropic")]


def test_no_previous_run_keeps_manifest_order(tmp_path):
    assert previous_durations(tmp_path / "absent.json") == {}


def test_latest_is_resolved_once_when_planning_and_recorded(tmp_path, monkeypatch):
    """Every job gets the concrete versions; the plan keeps how they were chosen (here: the offline memory)."""
    import json as _json

    from ccmatrix.settings import get_settings
    from producer.plan import RunOptions, plan_run

    memory = tmp_path / "resolve" / "last.json"
    memory.parent.mkdir(parents=True)
    memory.write_text(_json.dumps({
        "litellm": {"tool": "litellm", "requested": "latest", "version": "1.108.7", "source": "https://pypi.org/x",
                    "resolved_at": "2026-11-29T00:00:00+00:00", "skipped": [{"version": "1.110.2", "reason": "r"}]},
        "claude_code": {"tool": "@anthropic-ai/claude-code", "requested": "latest", "version": "2.1.332",
                        "source": "https://registry.npmjs.org/x", "resolved_at": "2026-11-29T00:00:00+00:00"}}))
    monkeypatch.setenv("CCMATRIX_CACHE_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        plan = plan_run(RunOptions(litellm_version="latest", claude_code_version="latest", offline=True,
                                   features=["tool_use"]))
    finally:
        get_settings.cache_clear()
    assert {j.litellm_version for j in plan.jobs} == {"1.108.7"}
    assert {j.claude_code_version for j in plan.jobs} == {"2.1.332"}
    assert plan.versions["litellm"]["skipped"][0]["version"] == "1.110.2"
    assert plan.versions["claude_code"]["source"].startswith("offline")
