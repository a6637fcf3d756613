"""Drill 5: the disk is full at publish time.

The output directory is a small tmpfs of its own (`mount -t tmpfs -o size=...`, as root). A first run publishes into
it. Then the tmpfs is filled twice over: first leaving room for the run's small files (schema, index, matrix) but
not for its page — the disk fills in the middle of publishing — and a second run finishes; then filled to the last
block, and a third run finishes. Held: neither is published, each says why in one line (no space left), and the
first run's matrix, page and history are intact and readable — no file of the later runs, no half file, no temp
file left behind.
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


def _fill(directory: Path, leave: int = 0) -> int:
    """Write zeros until the file system has only `leave` bytes free (or none); the bytes written."""
    written = 0
    chunk = b"\0" * 4096
    with open(directory / f"filler-{leave}", "wb", buffering=0) as handle:
        try:
            while _free(directory) - len(chunk) >= leave:
                written += handle.write(chunk)
            if not leave:
                while True:
                    written += handle.write(chunk)
        except OSError:
            pass
    return written


def _free(directory: Path) -> int:
    stat = os.statvfs(directory)
    return stat.f_bavail * stat.f_frsize


def _snapshot(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()
            and not p.name.startswith("filler")}


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
        small = sum(len(v) for k, v in before.items() if k.endswith(".json") and "/" not in k)
        outcomes = []
        for leave in (small + 4 * 4096, 0):  # room for the small files but not the page; then none at all
            _fill(out, leave)
            later = plan(**CELL)
            outcomes.append(wait(later, stack.app, submit(later, stack.app), timeout=180, poll_s=0.5))
            outcomes[-1]["left"] = leave
            outcomes[-1]["after"] = _snapshot(out)
    finally:
        stack.stop()
        redis.stop()
        subprocess.run(["umount", str(out)], capture_output=True)
    if not first.get("published"):
        return Verdict(False, f"the first run did not publish: {first.get('reason')}")
    problems = []
    for outcome in outcomes:
        when = f"with {outcome['left'] // 1024} KiB left"
        reason = str(outcome.get("reason") or "")
        if outcome.get("published"):
            problems.append(f"{when}: says it published on a full disk")
        if "No space left" not in reason or "\n" in reason:
            problems.append(f"{when}: reason {reason[:300]!r}")
        after = outcome["after"]
        # a new history entry (the run, recorded as not published) is by design; nothing else may appear or change
        changed = sorted({k for k in set(after) - set(before) if not k.startswith("history/")}
                         | {k for k in before if after.get(k) != before[k]})
        if changed:
            problems.append(f"{when}: changed or left behind: {changed}")
        try:
            if json.loads(after.get("compatibility-matrix.json", b"")).get("run_id") != first_plan.run_id:
                problems.append(f"{when}: the matrix is another run's")
        except ValueError:
            problems.append(f"{when}: the previous matrix is not readable")
    reason = str(outcomes[-1].get("reason") or "")
    return Verdict.check(problems, f"{SIZE} tmpfs, disk full mid-publish ({outcomes[0]['left'] // 1024} KiB left) "
                                   f"and with 0 left: neither run published ({reason[:80]!r}), the previous "
                                   f"matrix intact ({len(before)} files unchanged)")
