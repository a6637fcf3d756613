"""Fidelity through the real gateway: a planted field drop is caught, and fails the cell under --strict-fidelity."""
import pytest

pytestmark = pytest.mark.integration

# LiteLLM's own per-deployment setting: drop `metadata` from every request before it goes upstream.
DROP_METADATA = {"additional_drop_params": ["metadata"]}


def _records(cell, tier="sonnet"):
    return cell.tiers[tier].fidelity["records"]


def test_healthy_anthropic_turn_is_expected_only_with_rule_ids(run_cell_here):
    cell = run_cell_here("basic_messaging_streaming", "anthropic")
    assert cell.status.value == "pass"
    fidelity = cell.tiers["sonnet"].fidelity
    assert fidelity["verdict"] in ("clean", "expected-only")
    for record in fidelity["records"]:
        assert record["status"] == "expected" and record["rule"] and record["reason"]
    assert cell.fidelity["verdict"] == fidelity["verdict"]


def test_a_planted_drop_is_an_unexpected_record_naming_the_path(run_cell_here):
    cell = run_cell_here("basic_messaging_streaming", "anthropic", proxy_params=DROP_METADATA)
    assert cell.status.value == "pass"  # functionally fine: exactly why fidelity matters
    unexpected = [r for r in _records(cell) if r["status"] == "unexpected"]
    assert any(r["path"].endswith("metadata.user_id") and r["kind"] == "lost" for r in unexpected), unexpected
    assert cell.fidelity["verdict"] == "unexpected"


def test_strict_fidelity_fails_the_cell(run_cell_here):
    cell = run_cell_here("basic_messaging_streaming", "anthropic", proxy_params=DROP_METADATA, strict_fidelity=True)
    assert cell.status.value == "fail"
    assert "metadata.user_id" in cell.tiers["sonnet"].error


def test_finished_jobs_are_forgotten_so_a_long_lived_worker_does_not_grow(run_cell_here):
    from ccmatrix.settings import get_settings
    from worker.environment import environment_for

    run_cell_here("basic_messaging_streaming", "azure", tiers=("haiku",))
    env = environment_for(get_settings(), real=False)
    with env.sandbox.client("emulator") as client:
        left = client.get("/_emulator/captures").json()["captures"]
    assert left == [], [c["job_id"] for c in left][:5]
    assert not list((env.root / "emulator" / "captures").glob("*.jsonl"))
    assert not list((env.root / "recorder" / "client").glob("*.jsonl"))
