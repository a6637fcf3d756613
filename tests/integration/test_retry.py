"""The retry rule: rate-limit-shaped and transient failures are retried; a gateway `fail` never is."""
import pytest

pytestmark = pytest.mark.integration


def test_a_single_429_is_retried_and_the_tier_passes(run_cell_here):
    cell = run_cell_here("basic_messaging_streaming", "anthropic",
                         faults=[{"provider": "anthropic", "status": 429, "times": 1, "operation": "messages"}])
    assert cell.status.value == "pass", cell.model_dump_json(indent=1)[:2000]
    assert cell.tiers["sonnet"].evidence.extra.get("attempts") == 2


def test_a_400_is_a_fail_and_is_not_retried(run_cell_here):
    cell = run_cell_here("basic_messaging_streaming", "anthropic",
                         faults=[{"provider": "anthropic", "status": 400, "times": 1, "operation": "messages"}])
    assert cell.status.value == "fail"
    assert "attempts" not in cell.tiers["sonnet"].evidence.extra
