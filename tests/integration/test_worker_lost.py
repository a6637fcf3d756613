"""acks_late + reject_on_worker_lost: a job whose worker process dies is redelivered, and the run still publishes."""
from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from tests.conftest import WorkerStack

pytestmark = pytest.mark.integration


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def test_a_job_survives_the_loss_of_its_worker_process(redis_url, tools, tmp_path):
    from producer.plan import RunOptions, plan_run
    from producer.submit import submit, wait

    broker = redis_url.rsplit("/", 1)[0] + "/11"
    stack = WorkerStack(broker, tmp_path / "out", tmp_path / "worker.log", concurrency=1, extra_env={})
    try:
        # a slow first answer keeps the job running long enough to be killed mid-way
        plan = plan_run(RunOptions(features=["basic_messaging_streaming"], providers=["anthropic"], tiers=["haiku"],
                                   faults=[{"provider": "anthropic", "operation": "messages", "delay_s": 6,
                                            "times": 1}]))
        result = submit(plan, stack.app)
        task_id = f"{plan.run_id}:basic_messaging_streaming:anthropic"
        deadline = time.monotonic() + 180
        while stack.app.AsyncResult(task_id).state != "STARTED":
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.2)
        time.sleep(1.0)
        pool = _children(stack.process.pid)
        assert len(pool) == 1, pool
        os.kill(pool[0], signal.SIGKILL)
        summary = wait(plan, stack.app, result, timeout=300, poll_s=0.5)
    finally:
        stack.stop()
    assert summary["published"], summary
    document = json.loads((tmp_path / "out" / "compatibility-matrix.json").read_text())
    cell = document["features"][0]["providers"]["anthropic"]
    assert cell["status"] == "pass", cell
    log = (tmp_path / "worker.log").read_text()
    assert "SIGKILL" in log or "WorkerLostError" in log or "exited with" in log, log[-2000:]
