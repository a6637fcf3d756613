import json
import os
from datetime import datetime, timezone
from pathlib import Path

import jsonschema
import pytest

from ccmatrix.manifest import load_manifest
from ccmatrix.matrix import IncompleteMatrix, build_matrix, json_schema, to_json, validate_document
from ccmatrix.outcomes import Evidence, GatewayResponse, TierResult, UpstreamCall, cell_from_tiers
from ccmatrix.contract import CellOutcome

GOLDEN = Path(__file__).resolve().parents[2] / "fixtures" / "golden_matrix.json"


def _cells(selection):
    cells = []
    for provider in selection.providers:
        if provider == "anthropic":
            tiers = {t: TierResult.passed(duration_ms=1200, evidence=Evidence(
                result_text="PINEAPPLE", upstream_calls=[UpstreamCall(method="POST", path="/v1/messages", status=200)]))
                for t in selection.tiers}
        elif provider == "bedrock_converse":
            tiers = {"haiku": TierResult.passed(duration_ms=900),
                     "sonnet": TierResult.failed("request refused (400): Extra inputs are not permitted", evidence=Evidence(
                         gateway_response=GatewayResponse(status=400, body='{"error": {"message": "Extra inputs"}}'),
                         upstream_calls=[UpstreamCall(method="POST", path="/model/m/converse", status=400,
                                                      cause="refused", reason="Extra inputs are not permitted")])),
                     "opus": TierResult.errored("rate limited or quota exhausted (429)", cause="provider")}
        elif provider == "azure":
            tiers = {t: TierResult.not_applicable("no deployment of this model on Azure") for t in selection.tiers}
        else:
            tiers = {t: TierResult.not_tested("credentials not configured") for t in selection.tiers}
        cell = cell_from_tiers("basic_messaging_non_streaming", provider, tiers)
        upstream = "real" if provider == "vertex_ai" else "emulator"
        cells.append(CellOutcome(**cell.model_dump(), upstream=upstream))
    return cells


def _matrix():
    manifest = load_manifest()
    selection = manifest.select(["basic_messaging_non_streaming"], None, None)
    return build_matrix(manifest, selection, _cells(selection), run_id="20260101T000000Z-abcdef",
                        litellm_version="1.106.2", claude_code_version="2.1.197",
                        generated_at=datetime(2026, 1, 1, tzinfo=timezone.utc))


def test_builder_matches_the_golden_file():
    text = to_json(_matrix())
    if os.environ.get("CCMATRIX_REGEN_GOLDEN"):  # regenerate deliberately, then review the diff like code
        GOLDEN.write_text(text)
    assert json.loads(text) == json.loads(GOLDEN.read_text())


def test_built_matrix_validates_against_the_published_schema():
    document = json.loads(to_json(_matrix()))
    validate_document(document)
    row = document["features"][0]
    assert row["providers"]["bedrock_converse"]["status"] == "fail"
    assert set(row["providers"]["anthropic"]["tiers"]) == {"haiku", "sonnet", "opus"}


def test_schema_rejects_unknown_status_and_wrong_version():
    document = json.loads(to_json(_matrix()))
    document["features"][0]["providers"]["anthropic"]["status"] = "green"
    with pytest.raises(jsonschema.ValidationError):
        validate_document(document)
    document = json.loads(to_json(_matrix()))
    document["schema_version"] = "2"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, json_schema())


def test_missing_cell_is_refused():
    manifest = load_manifest()
    selection = manifest.select(["basic_messaging_non_streaming"], None, None)
    cells = _cells(selection)[:-1]
    with pytest.raises(IncompleteMatrix, match="missing"):
        build_matrix(manifest, selection, cells, run_id="r", litellm_version="1", claude_code_version="2")
