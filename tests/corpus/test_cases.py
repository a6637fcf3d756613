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
    "vertex-count-tokens-gemini-counter",
    "vertex-count-tokens-version-suffix",
    "vertex-prompt-caching-scope-beta",
]


@pytest.mark.parametrize("case_id", MODELLED)
def test_case_reproduced_at_buggy_and_fixed_release(case_id, tmp_path):
    report = tmp_path / "corpus-report.json"
    env = {**os.environ, "CCMATRIX_OUT_DIR": str(tmp_path / "out")}
    done = subprocess.run([CCMATRIX, "corpus", "run", case_id, "--concurrency", "2",
                           "--report", str(report)],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    document = json.loads(report.read_text())
    (case,) = [c for c in document["cases"] if c["case"] == case_id]
    assert case["verdict"] == "reproduced", json.dumps(case, indent=1)[:3000]
    assert done.stdout.strip().splitlines()[-1] == "corpus: 1/1 reproduced"
