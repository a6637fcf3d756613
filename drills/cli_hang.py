"""Drill 4: a CLI that hangs.

The worker's CLI timeout is set short; once a CLI run is under way it is frozen (SIGSTOP: it will never answer nor
exit on its own). Held: it is killed at its timeout together with its process group, the tier is `error` (timeout),
the run publishes, and no CLI process is left below the worker.
"""
from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from drills.stack import Redis, WorkerStack, cli_runs, plan, quiet_env, wait_for
from drills.verdict import Verdict
from tests.proc import running

TIMEOUT_S = 12


def run(work: Path) -> Verdict:
    from producer.submit import submit, wait

    work.mkdir(parents=True)
    redis = Redis(work / "redis").start()
    out = work / "out"
    stack = WorkerStack(redis.url, out, work / "worker.log", concurrency=1,
                        extra_env=quiet_env(CCMATRIX_CLI_TIMEOUT_S=str(TIMEOUT_S)))
    try:
        planned = plan(features=["basic_messaging_streaming"], providers=["anthropic"], tiers=["haiku"])
        result = submit(planned, stack.app)
        frozen = wait_for(lambda: cli_runs(stack), timeout_s=180, what="a CLI run", interval_s=0.05)
        for pid in frozen:
            os.kill(pid, signal.SIGSTOP)
        summary = wait(planned, stack.app, result, timeout=TIMEOUT_S + 90, poll_s=0.5)
        time.sleep(0.5)
        left = cli_runs(stack)
        still = [p for p in frozen if running(p)]
    finally:
        stack.stop()
        redis.stop()
    problems = []
    tier = {}
    if summary.get("published"):
        tier = json.loads((out / "compatibility-matrix.json").read_text())["features"][0]["providers"][
            "anthropic"]["tiers"]["haiku"]
    else:
        problems.append(f"not published: {summary.get('reason')}")
    took = (tier.get("duration_ms") or 0) / 1000
    if tier.get("status") != "error" or "timeout" not in (tier.get("error") or ""):
        problems.append(f"tier {tier.get('status')}: {(tier.get('error') or tier.get('reason') or '')[:200]!r}")
    if not TIMEOUT_S - 1 <= took <= TIMEOUT_S + 10:
        problems.append(f"ended after {took:.1f} s")
    if left or still:
        problems.append(f"CLI processes left: {sorted(set(left) | set(still))}")
    return Verdict.check(problems, f"CLI frozen mid-run: tier {tier.get('status')} after {took:.1f} s "
                                   f"(timeout {TIMEOUT_S} s), {len(set(left) | set(still))} CLI processes left")
