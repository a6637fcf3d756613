"""The tracer bullet, all real: session Redis → celery worker subprocess → LiteLLM proxy → claude → emulator."""
from __future__ import annotations

import json

import pytest

from ccmatrix.matrix import validate_document

pytestmark = pytest.mark.integration


def _cell(out_dir, feature, provider):
    document = json.loads((out_dir / "compatibility-matrix.json").read_text())
    validate_document(document)
    row = next(f for f in document["features"] if f["id"] == feature)
    return document, row["providers"][provider]


def test_anthropic_cell_passes_on_every_tier(worker_stack):
    summary = worker_stack.run(features=["basic_messaging_non_streaming"], providers=["anthropic"])
    assert summary["published"], summary
    document, cell = _cell(worker_stack.out_dir, "basic_messaging_non_streaming", "anthropic")
    assert document["run_id"] == summary["plan"].run_id
    assert cell["status"] == "pass", cell
    assert {t: d["status"] for t, d in cell["tiers"].items()} == {"haiku": "pass", "sonnet": "pass", "opus": "pass"}
    for detail in cell["tiers"].values():
        assert detail["duration_ms"] > 0
        paths = [c["path"] for c in detail["evidence"]["upstream_calls"]]
        assert any(p.startswith("/v1/messages") for p in paths), paths
    # versions are read from the real binaries
    assert document["claude_code_version"] == "2.1.197"
    assert document["litellm_version"] == "1.106.2"
    schema = json.loads((worker_stack.out_dir / "compatibility-matrix.schema.json").read_text())
    assert schema["properties"]["schema_version"]
    assert "basic_messaging_non_streaming" in (worker_stack.out_dir / "index.html").read_text()


def test_upstream_500_is_an_infrastructure_error_and_the_run_still_publishes(worker_stack):
    summary = worker_stack.run(features=["basic_messaging_non_streaming"], providers=["anthropic"], tiers=["haiku"],
                               faults=[{"provider": "anthropic", "status": 500}])
    assert summary["published"], summary
    _, cell = _cell(worker_stack.out_dir, "basic_messaging_non_streaming", "anthropic")
    # Our rule: the provider itself failing (5xx upstream) is `error`, never painted as a gateway `fail`.
    assert cell["status"] == "error", cell
    tier = cell["tiers"]["haiku"]
    assert "500" in tier["error"]
    assert any(c["status"] == 500 for c in tier["evidence"]["upstream_calls"])
