"""Each corpus case the emulator models (MODELLED) runs at its buggy and at its fixed release through the real CLI,
the real gateway releases and the emulator (`ccmatrix corpus run CASE`), and must come out reproduced: red for the
case's reason at the buggy release, not red for that reason at the fixed one (ccmatrix/corpus_run.py judges).

A case joins MODELLED when the emulator models the provider behaviour it depended on (corpus/README.md, "Last run");
the cases not listed are not reproduced today, each for the reason README gives.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CCMATRIX = str(Path(sys.executable).parent / "ccmatrix")

MODELLED = [
    "anthropic-signed-empty-thinking-stripped",
    "anthropic-stream-model-not-restamped",
    "bedrock-converse-cache-control-dropped",
    "bedrock-converse-effort-dropped",
    "bedrock-converse-message-ttl-downgrade",
    "bedrock-converse-stream-first-delta-dropped",
    "bedrock-count-tokens-local-fallback",
    "bedrock-effort-dropped",
    "bedrock-invoke-context-management-extra-input",
    "bedrock-invoke-prompt-caching-scope-beta",
    "bedrock-web-search-server-tool",
    "vertex-context-1m-beta-dropped",
    "vertex-count-tokens-gemini-counter",
    "vertex-count-tokens-version-suffix",
    "vertex-effort-stripped",
    "vertex-prompt-caching-scope-beta",
]
OPEN = {"bedrock-web-search-server-tool"}  # no fixed release: only its buggy side runs


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    """One `ccmatrix corpus run` of every modelled case (one local stack, the cells in parallel): its report and
    its output."""
    tmp = tmp_path_factory.mktemp("corpus")
    report = tmp / "corpus-report.json"
    env = {**os.environ, "CCMATRIX_OUT_DIR": str(tmp / "out")}
    done = subprocess.run([CCMATRIX, "corpus", "run", *MODELLED, "--concurrency", "2", "--report", str(report)],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=3600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(report.read_text()), done.stdout


@pytest.mark.parametrize("case_id", MODELLED)
def test_case_reproduced_at_buggy_and_fixed_release(corpus_run, case_id):
    document, _ = corpus_run
    (case,) = [c for c in document["cases"] if c["case"] == case_id]
    assert case["verdict"] == "reproduced", json.dumps(case, indent=1)[:3000]
    # both releases really ran: the buggy one red for the case's reason, the fixed one not
    assert case["buggy"]["red_for_case"], case["buggy"]
    if case_id in OPEN:
        assert case["fixed"] is None
    else:
        assert case["fixed"] and case["fixed"].get("status") and not case["fixed"].get("red_for_case"), case["fixed"]


def test_the_score_line_counts_them(corpus_run):
    _, stdout = corpus_run
    assert stdout.strip().splitlines()[-1] == f"corpus: {len(MODELLED)}/{len(MODELLED)} reproduced"
