"""Celery's time limits (CCMATRIX_JOB_TIME_LIMIT_S): a cell that runs out of time is an `error` cell in a published
matrix, its finished tiers kept — it never takes the whole run down with it.

All real: a `celery -A producer worker` subprocess whose soft limit is a few seconds, the LiteLLM proxy, claude and
the emulator. One cell's upstream is slowed (an emulator `delay_s` fault on the first request of each tier) so its
first tier finishes inside the limit and its second cannot; the other cell is untouched.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.conftest import WorkerStack

pytestmark = pytest.mark.integration

LIMIT_S = 35  # the soft limit: the slowed cell's first tier (~DELAY_S + 2 s) fits, its second cannot
GRACE_S = 20  # the hard limit comes this much later: an interrupted CLI run must end well before it
DELAY_S = 20
FEATURE = "basic_messaging_non_streaming"


def _descendants(pid: int) -> dict[int, tuple[str, str]]:
    """pid → (state, cmdline) of every process below `pid`."""
    table: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                table[int(entry.name)] = (int(stat[1]), stat[0])
            except (OSError, ValueError):
                continue
    found: dict[int, tuple[str, str]] = {}
    frontier = {pid}
    while frontier:
        frontier = {child for child, (parent, _) in table.items() if parent in frontier} - set(found)
        for child in frontier:
            try:
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                cmdline = ""
            found[child] = (table[child][1], cmdline)
    return found


def test_a_cell_over_its_time_limit_is_an_error_and_the_run_still_publishes(redis_url, tools, tmp_path):
    from producer.plan import RunOptions, plan_run
    from producer.submit import submit, wait

    broker = redis_url.rsplit("/", 1)[0] + "/12"
    stack = WorkerStack(broker, tmp_path / "out", tmp_path / "worker.log", concurrency=1,
                        extra_env={"CCMATRIX_JOB_TIME_LIMIT_S": str(LIMIT_S),
                                   "CCMATRIX_JOB_TIME_LIMIT_GRACE_S": str(GRACE_S)})
    try:
        plan = plan_run(RunOptions(features=[FEATURE], providers=["anthropic", "bedrock_converse"],
                                   tiers=["haiku", "sonnet"],
                                   faults=[{"provider": "bedrock_converse", "delay_s": DELAY_S, "times": 1}]))
        # One worker process: the quick cell first (it pays for the proxy boot), then the slow one, so the slow
        # cell's time is all its own tiers.
        plan.jobs.sort(key=lambda job: job.provider != "anthropic")
        result = submit(plan, stack.app)
        summary = wait(plan, stack.app, result, timeout=LIMIT_S + GRACE_S + 90, poll_s=0.5)
        slow = stack.app.AsyncResult(f"{plan.run_id}:{FEATURE}:bedrock_converse").result
        time.sleep(1)
        left = {pid: info for pid, info in _descendants(stack.process.pid).items()
                if info[0] == "Z" or ("claude" in info[1] and " -p " in info[1])}
    finally:
        stack.stop()
    log = (tmp_path / "worker.log").read_text(errors="replace")

    # The chord completed and the matrix was published.
    assert summary["published"], (summary, log[-3000:])
    document = json.loads((tmp_path / "out" / "compatibility-matrix.json").read_text())
    row = next(f for f in document["features"] if f["id"] == FEATURE)

    # The slowed cell: the tier that finished stands, the one cut off is an infrastructure error naming the limit.
    cell = row["providers"]["bedrock_converse"]
    assert cell["status"] == "error", cell
    assert cell["tiers"]["haiku"]["status"] == "pass", cell["tiers"]["haiku"]
    cut = cell["tiers"]["sonnet"]
    assert cut["status"] == "error" and cut["cause"] == "infrastructure", cut
    assert cut["error"].startswith("time limit:") and f"{LIMIT_S} s" in cut["error"], cut

    # It was the soft limit that ended it, promptly (the CLI run in flight was interrupted, not waited for),
    # and no CLI process — nor an unreaped one — was left behind in the worker.
    assert "Soft time limit" in log and "Hard time limit" not in log, log[-3000:]
    assert (LIMIT_S - 3) * 1000 <= slow["duration_ms"] < (LIMIT_S + 5) * 1000, slow["duration_ms"]
    assert not left, left

    # The other cell is untouched.
    other = row["providers"]["anthropic"]
    assert other["status"] == "pass", other
    assert {t: d["status"] for t, d in other["tiers"].items()} == {"haiku": "pass", "sonnet": "pass"}
