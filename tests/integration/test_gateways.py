"""The basic rows through each gateway plug-in that is not LiteLLM, on every column it has a route for — the real
gateway (provisioned from npm), the real CLI and the emulator in the worker's sandbox, through the worker's own entry
point (worker.cell.run_cell, as tests/integration/test_checks.py runs LiteLLM) — and every column it lacks is
not_applicable with "gateway has no route", never an error.

Part of `make test`: 29 cells in ~25 s here once both releases are provisioned (each gateway boots once, in 0.5 to
1.5 s; the n/a columns boot nothing); the first run provisions them from npm (~30 s).
"""
from __future__ import annotations

import pytest

from ccmatrix.manifest import load_manifest
from gateways import registry

pytestmark = pytest.mark.integration

ROWS = ("basic_messaging_streaming", "basic_messaging_non_streaming")
# Pinned like the suite's Claude Code and LiteLLM (tests/fixtures/manifests/pins.yaml): the releases measured here.
RELEASES = {"portkey": "1.15.2", "claude-code-router": "2.0.0"}
COLUMNS = ("anthropic", "bedrock_invoke", "bedrock_converse", "vertex_ai", "azure", "bedrock_passthrough",
           "vertex_passthrough")
CASES = [(g, f, c) for g in RELEASES for c in COLUMNS for f in ROWS]


@pytest.fixture(scope="module")
def run_through(run_cell_here):
    def run(gateway: str, feature: str, column: str, **kw):
        return run_cell_here(feature, column, gateway=gateway, gateway_version=RELEASES[gateway], **kw)
    return run


@pytest.mark.parametrize("gateway,feature,column", CASES, ids=[f"{g}-{c}-{f.removeprefix('basic_messaging_')}"
                                                                 for g, f, c in CASES])
def test_basic_rows_through_the_gateway(run_through, gateway, feature, column, record_property):
    """A routed column gets a verdict with evidence — the gateway reached the emulated provider (pass, or fail blamed
    on the gateway, or an emulator gap named as such), never an infrastructure error; a column without a route is
    not_applicable with the plug-in's reason (or the row's own, which comes first)."""
    cell = run_through(gateway, feature, column)
    dump = cell.model_dump_json(indent=1)[:3000]
    record_property("verdict", {t: (r.status.value, r.error or r.reason) for t, r in cell.tiers.items()})
    assert cell.gateway == gateway
    feature_na = load_manifest().feature(feature).not_applicable.get(column)
    reason = feature_na or registry.get(gateway).no_route_reason(column)
    if reason:
        assert cell.status.value == "not_applicable", dump
        assert [t.reason for t in cell.tiers.values()] == [reason], dump
        return
    assert cell.gateway_version == RELEASES[gateway], dump
    tier = cell.tiers["sonnet"]
    assert tier.evidence is not None and tier.evidence.upstream_calls, dump  # the gateway reached the provider
    assert (tier.status.value, tier.cause) in {("pass", None), ("fail", "gateway"), ("error", "emulator_gap")}, dump


def test_a_broken_reply_through_the_gateway_fails(run_through):
    """The row can fail through a plug-in: the emulator answers the wrong text, the cell is `fail`, not `pass`."""
    cell = run_through("portkey", "basic_messaging_non_streaming", "anthropic", scenario={"reply_text": "BANANA"})
    assert cell.status.value == "fail", cell.model_dump_json(indent=1)[:3000]
    assert "BANANA" in cell.tiers["sonnet"].error
