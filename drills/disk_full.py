"""Drill 5: the disk is full at publish time.

The output directory is a small tmpfs of its own (`mount -t tmpfs -o size=...`, as root). A first run publishes into
it; then the rest of the tmpfs is filled, and a second run finishes. Held: the second run is not published and says
why in one line (no space left), and the first run's matrix, page and history are intact and readable — no half
file, no temp file left behind.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from drills.stack import Redis, WorkerStack, plan, quiet_env
from drills.verdict import Verdict

SIZE = "1m"  # enough for one published run of one cell (matrix, schema, page, history); then filled
CELL = dict(features=["basic_messaging_non_streaming"], providers=["anthropic"], tiers=["haiku"])


def _fill(directory: Path) -> int:
    """Write zeros until the file system is full; the bytes written."""
    written = 0
    chunk = b"\0" * 4096
    with open(directory / "filler", "wb", buffering=0) as handle:
        try:
            while True:
                written += handle.write(chunk)
        except OSError:
            pass
    return written


def _snapshot(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()
            and p.name != "filler"}


def run(work: Path) -> Verdict:
    from producer.submit import submit, wait

    work.mkdir(parents=True)
    out = work / "out"
    out.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(out)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        return Verdict(False, f"could not mount a tmpfs (root needed): {mounted.stderr.strip()}")
    redis = Redis(work / "redis").start()
    stack = WorkerStack(redis.url, out, work / "worker.log", concurrency=1, extra_env=quiet_env())
    try:
        first_plan = plan(**CELL)
        first = wait(first_plan, stack.app, submit(first_plan, stack.app), timeout=180, poll_s=0.5)
        before = _snapshot(out)
        filled = _fill(out)
        second_plan = plan(**CELL)
        second = wait(second_plan, stack.app, submit(second_plan, stack.app), timeout=180, poll_s=0.5)
        after = _snapshot(out)
        free = os.statvfs(out).f_bavail
    finally:
        stack.stop()
        redis.stop()
        subprocess.run(["umount", str(out)], capture_output=True)
    problems = []
    if not first.get("published"):
        return Verdict(False, f"the first run did not publish: {first.get('reason')}")
    reason = str(second.get("reason") or "")
    if second.get("published"):
        problems.append("the second run says it published on a full disk")
    if "No space left" not in reason or "\n" in reason:
        problems.append(f"reason: {reason[:300]!r}")
    if after != before:
        changed = sorted(set(after) ^ set(before) | {k for k in before if after.get(k) != before[k]})
        problems.append(f"changed or left behind: {changed}")
    try:
        document = json.loads(after.get("compatibility-matrix.json", b""))
        readable = document.get("run_id") == first_plan.run_id
    except ValueError:
        readable = False
    if not readable:
        problems.append("the previous matrix is not readable")
    return Verdict.check(problems, f"{SIZE} tmpfs filled ({filled // 1024} KiB, {free} blocks free): second run "
                                   f"not published ({reason[:90]!r}), previous matrix intact "
                                   f"({len(before)} files unchanged)")
