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
