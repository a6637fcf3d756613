"""Drill 1: the broker restarts mid-run.

A Redis persisting to an append-only file (as docker/compose.yaml and k8s/base/redis.yaml run it), one worker and a
three-cell run; once the first cell is under way Redis is shut down, stays down a few seconds and comes back on the
same port with the same data. Held: the run completes and publishes, every planned cell is in the matrix exactly
once (0 lost, 0 duplicated) and the callback got one result per cell.
"""
from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

from drills.stack import Redis, WorkerStack, plan, quiet_env, wait_started
from drills.verdict import Verdict

PROVIDERS = ["anthropic", "bedrock_converse", "azure"]
DOWN_S = 3.0


def run(work: Path) -> Verdict:
    from producer.submit import submit, wait

    work.mkdir(parents=True)
    redis = Redis(work / "redis").start()
    stack = WorkerStack(redis.url, work / "out", work / "worker.log", concurrency=1, extra_env=quiet_env())
    try:
        planned = plan(features=["basic_messaging_streaming"], providers=PROVIDERS, tiers=["haiku"])
        result = submit(planned, stack.app)
        wait_started(stack, planned.jobs[0].task_id)
        time.sleep(1.0)
        redis.stop()
        time.sleep(DOWN_S)
        redis.start()
        summary = wait(planned, stack.app, result, timeout=240, poll_s=0.5)
    finally:
        stack.stop()
        redis.stop()
    problems = []
    if not summary.get("published"):
        problems.append(f"not published: {summary.get('reason')}")
    cells: Counter = Counter()
    try:
        document = json.loads((work / "out" / "compatibility-matrix.json").read_text())
        for row in document["features"]:
            for provider in row["providers"]:
                cells[(row["id"], provider)] += 1
    except (OSError, ValueError, KeyError):
        document = None
    expected = {(job.feature, job.provider) for job in planned.jobs}
    lost = expected - set(cells)
    duplicated = sum(n - 1 for n in cells.values() if n > 1)
    received = sum((summary.get("counts") or {}).values())
    if lost:
        problems.append(f"lost cells: {sorted(lost)}")
    if duplicated or received != len(expected):
        problems.append(f"the callback got {received} results for {len(expected)} cells")
    return Verdict.check(problems, f"Redis down {DOWN_S:g} s mid-run: {len(expected) - len(lost)}/{len(expected)} "
                                   f"cells published, {len(lost)} lost, {duplicated} duplicated, "
                                   f"{received} results for {len(expected)} cells")
