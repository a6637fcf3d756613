"""Drill 3: the gateway process is killed mid-cell.

One worker runs a cell whose upstream answers slowly (an emulator delay fault), so the CLI is waiting on the gateway
when the gateway's process (LiteLLM, found below the worker) gets SIGKILL. Held: that tier is `error` "gateway
crashed" with the gateway's log tail, and the next job on the same worker boots a fresh gateway and passes.
"""
from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from drills.stack import Redis, WorkerStack, cli_runs, descendants, plan, quiet_env, wait_for
from drills.verdict import Verdict

CELL = dict(features=["basic_messaging_streaming"], providers=["anthropic"], tiers=["haiku"])


def _gateways(stack: WorkerStack) -> list[int]:
    return [p for p, c in descendants(stack.process.pid).items() if "litellm" in c and "--config" in c]


def _tier(out: Path) -> dict:
    document = json.loads((out / "compatibility-matrix.json").read_text())
    return document["features"][0]["providers"]["anthropic"]["tiers"]["haiku"]


def run(work: Path) -> Verdict:
    from producer.submit import submit, wait

    work.mkdir(parents=True)
    redis = Redis(work / "redis").start()
    out = work / "out"
    stack = WorkerStack(redis.url, out, work / "worker.log", concurrency=1, extra_env=quiet_env())
    problems = []
    try:
        planned = plan({"anthropic": [{"provider": "anthropic", "delay_s": 8, "times": 1}]}, **CELL)
        result = submit(planned, stack.app)
        wait_for(lambda: cli_runs(stack), timeout_s=180, what="a CLI run")
        time.sleep(1.5)
        killed = _gateways(stack)
        for pid in killed:
            os.kill(pid, signal.SIGKILL)
        first = wait(planned, stack.app, result, timeout=120, poll_s=0.5)
        crashed = _tier(out) if first.get("published") else {}
        second_plan = plan(**CELL)
        second = wait(second_plan, stack.app, submit(second_plan, stack.app), timeout=180, poll_s=0.5)
        fresh = _gateways(stack)
        after = _tier(out) if second.get("published") else {}
    finally:
        stack.stop()
        redis.stop()
    error = crashed.get("error") or ""
    if len(killed) != 1:
        problems.append(f"{len(killed)} gateway processes found to kill")
    if crashed.get("status") != "error" or "gateway crashed" not in error:
        problems.append(f"crashed tier: {crashed.get('status')} {error[:200]!r}")
    if "log" not in error:
        problems.append("no log tail in the error")
    if after.get("status") != "pass":
        problems.append(f"next job: {after.get('status')} {(after.get('error') or after.get('reason') or '')[:200]!r}")
    if not fresh or set(fresh) & set(killed):
        problems.append(f"no fresh gateway (killed {killed}, now {fresh})")
    tail_lines = len(error.split("log ends:", 1)[-1].strip().splitlines()) if "log ends:" in error else 0
    return Verdict.check(problems, f"gateway pid {killed} SIGKILLed mid-tier: tier {crashed.get('status')} "
                                   f"'gateway crashed' + {tail_lines} log lines; next job: fresh gateway pid {fresh}, "
                                   f"{after.get('status')}")
