"""Drill 8: egress in emulator mode.

A worker runs two emulated cells (network isolation as configured by default: on, as root). When the run is over —
the worker, its sandbox, emulator and gateway still up — the sandbox's network namespace is read through its agent
process (worker/sandbox.py): `/proc/<agent>/net/dev` holds the interface counters of that namespace (the
/sys/class/net statistics as the namespace sees them) since it was created, i.e. over the whole run. Held: the
namespace is not the host's, loopback carried the run's traffic, and every other interface sent 0 packets.
"""
from __future__ import annotations

import os
from pathlib import Path

from drills.stack import Redis, WorkerStack, descendants, plan, quiet_env
from drills.verdict import Verdict

PROVIDERS = ["anthropic", "bedrock_converse"]


def counters(pid: int) -> dict[str, tuple[int, int]]:
    """interface → (received packets, sent packets) in the network namespace of `pid`."""
    found = {}
    for line in Path(f"/proc/{pid}/net/dev").read_text().splitlines()[2:]:
        name, _, fields = line.partition(":")
        values = fields.split()
        found[name.strip()] = (int(values[1]), int(values[9]))
    return found


def run(work: Path) -> Verdict:
    from producer.submit import submit, wait

    work.mkdir(parents=True)
    redis = Redis(work / "redis").start()
    stack = WorkerStack(redis.url, work / "out", work / "worker.log", concurrency=1, extra_env=quiet_env())
    try:
        planned = plan(features=["basic_messaging_streaming"], providers=PROVIDERS, tiers=["haiku"])
        summary = wait(planned, stack.app, submit(planned, stack.app), timeout=240, poll_s=0.5)
        sandbox = [p for p, c in descendants(stack.process.pid).items() if "worker.sandbox_agent" in c]
        gateway = [p for p, c in descendants(stack.process.pid).items() if "litellm" in c and "--config" in c]
        probe = (sandbox or gateway or [None])[0]
        seen = counters(probe) if probe else {}
        own = os.stat(f"/proc/{probe}/ns/net").st_ino if probe else None
    finally:
        stack.stop()
        redis.stop()
    host = os.stat("/proc/self/ns/net").st_ino  # the drill runs where the worker runs
    loopback = sum(seen.get("lo", (0, 0)))
    outside = {name: sent for name, (_, sent) in seen.items() if name != "lo"}
    problems = []
    if not summary.get("published"):
        problems.append(f"not published: {summary.get('reason')}")
    if probe is None:
        problems.append("no sandbox process found")
    elif own == host:
        problems.append("the sandbox shares the host's network namespace")
    if sum(outside.values()):
        problems.append(f"packets sent on {outside}")
    if not loopback:
        problems.append("no traffic on loopback: nothing ran in the namespace")
    return Verdict.check(problems, f"{len(PROVIDERS)} cells in the sandbox's namespace: loopback {loopback} packets, "
                                   f"{sum(outside.values())} packets on {len(outside)} other interface(s) "
                                   f"{sorted(outside) or ''}".rstrip())
