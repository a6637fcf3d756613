"""The matrix records the versions of the packages that define the emulator's strictness, as the workers report them."""
from __future__ import annotations

import json

from ccmatrix.contract import CellOutcome
from ccmatrix.lockfile import LOCK_FILE, parse_lock
from ccmatrix.manifest import load_manifest
from ccmatrix.matrix import build_matrix, to_json, validate_document
from ccmatrix.outcomes import TierResult
from ccmatrix.strictness import PACKAGES, installed_versions, run_strictness

OLD = {"anthropic": "0.40.0", "botocore": "1.35.0", "pydantic": "2.7.0", "pydantic-core": "2.18.0", "google-auth": "2.0.0"}


def _build(strictness_by_provider: dict[str, dict[str, str] | None]):
    manifest = load_manifest()
    selection = manifest.select(["basic_messaging_non_streaming"], list(strictness_by_provider), ["haiku"])
    cells = [CellOutcome.from_tiers("basic_messaging_non_streaming", p, {"haiku": TierResult.passed(duration_ms=1)},
                                    upstream="emulator" if s else "real", emulator_strictness=s)
             for p, s in strictness_by_provider.items()]
    return build_matrix(manifest, selection, cells, run_id="r", litellm_version="1.106.2", claude_code_version="2.1.197",
                        report={"problems": ["earlier problem"]})


def test_the_worker_reports_the_locked_versions_of_the_strictness_packages():
    pins = parse_lock(LOCK_FILE.read_text())
    versions = installed_versions()
    assert list(versions) == list(PACKAGES)
    assert versions == {name: pins[name].version for name in PACKAGES}
    assert installed_versions(["no-such-package-ccmatrix"]) == {"no-such-package-ccmatrix": "missing"}


def test_the_matrix_records_them_next_to_the_gateway_and_cli_versions():
    here = installed_versions()
    document = json.loads(to_json(_build({"anthropic": here, "bedrock_converse": here, "vertex_ai": None})))
    validate_document(document)
    assert document["emulator_strictness"] == here
    assert document["report"]["problems"] == ["earlier problem"]


def test_workers_that_disagree_are_a_problem_and_the_majority_is_recorded():
    here = installed_versions()
    matrix = _build({"anthropic": here, "bedrock_converse": here, "vertex_ai": OLD})
    assert matrix.emulator_strictness == here
    assert matrix.report["problems"][0] == "earlier problem"
    assert matrix.report["problems"][1].startswith("workers judged with different emulator package versions: ")
    assert "anthropic 0.40.0" in matrix.report["problems"][1] and "(1 cells)" in matrix.report["problems"][1]


def test_a_run_without_an_emulated_column_records_none():
    document = json.loads(to_json(_build({"anthropic": None})))
    assert "emulator_strictness" not in document
    assert run_strictness([]) == (None, [])
