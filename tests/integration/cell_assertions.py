"""Assertions shared by the row tests: what a failing cell must carry."""
from __future__ import annotations


def tier_of(cell, tier: str = "sonnet"):
    return cell.tiers[tier]


def statuses(tier) -> list:
    return [c.status for c in tier.evidence.upstream_calls]


def assert_fail(cell, *words, tier: str = "sonnet"):
    """The cell is `fail`, the tier's error names every word, and the evidence carries the assertion and calls."""
    assert cell.status.value == "fail", cell.model_dump_json(indent=1)[:3000]
    result = tier_of(cell, tier)
    for word in words:
        assert word in result.error, result.error
    assert result.evidence.assertion == result.error
    assert result.evidence.upstream_calls, "a failing cell carries the upstream calls as evidence"
    return result
