"""`ccmatrix run --workers 2`: two Celery workers with their own node names on the run's one broker share the cells
as separate hosts would — each cell is run once and each worker takes one."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
LOGS = ROOT / ".cache" / "logs"
FEATURE = "basic_messaging_non_streaming"


def test_two_workers_each_take_a_cell_and_every_cell_runs_once(tools, tmp_path):
    env = {k: v for k, v in os.environ.items()  # the session's pinned manifest stays (tests/conftest.py)
           if not k.startswith("CCMATRIX_") or k == "CCMATRIX_MANIFEST_PATH"}
    env["CCMATRIX_OUT_DIR"] = str(tmp_path / "out")
    env["CCMATRIX_CACHE_DIR"] = str(ROOT / ".cache")
    # concurrency 1 each: a worker busy with its first cell cannot reserve the second, the other worker takes it
    run = subprocess.run([sys.executable, "-m", "ccmatrix.cli", "run", "--workers", "2", "--concurrency", "1",
                          "--features", FEATURE, "--providers", "anthropic,azure", "--tiers", "haiku"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=400)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "started 2 celery worker(s) (concurrency 1 each)" in run.stderr
    summary = json.loads(run.stdout)
    run_id = summary["run_id"]
    assert summary["published"] is True and sum(summary["counts"].values()) == 2
    matrix = json.loads((tmp_path / "out" / "compatibility-matrix.json").read_text())
    cells = [(row["id"], p) for row in matrix["features"] for p in row["providers"]]
    assert sorted(cells) == [(FEATURE, "anthropic"), (FEATURE, "azure")]

    # who ran what, from each worker's own log: every cell received and finished exactly once, on one node each
    ran_by: dict[str, list[str]] = {}
    received: dict[str, int] = {}
    for n in (1, 2):
        text = (LOGS / f"ccmatrix-local-{n}.log").read_text(errors="replace")
        for task in re.findall(rf"Task ccmatrix\.run_cell\[({re.escape(run_id)}:[^\]]+)\] received", text):
            received[task] = received.get(task, 0) + 1
        for task in re.findall(rf"Task ccmatrix\.run_cell\[({re.escape(run_id)}:[^\]]+)\] succeeded", text):
            ran_by.setdefault(task, []).append(f"worker-{n}")
    tasks = {f"{run_id}:{FEATURE}:anthropic", f"{run_id}:{FEATURE}:azure"}
    assert received == {t: 1 for t in tasks}, received
    assert set(ran_by) == tasks and all(len(nodes) == 1 for nodes in ran_by.values()), ran_by
    assert sorted(nodes[0] for nodes in ran_by.values()) == ["worker-1", "worker-2"], ran_by
