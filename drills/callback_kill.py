"""Drill 2: SIGKILL of the worker process running the chord callback, mid-publish.

The run publishes to a directory and to a git repository (a local bare one). Its post-receive hook, the first time
only, says it ran and then sleeps: the callback has pushed its commit and waits for the push to return — that is
when the pool process running the callback is killed. Celery redelivers the callback (acks_late +
reject_on_worker_lost) to a fresh pool process, which publishes again. Held: the run is published, the repository
has exactly one commit for the run and the history one entry.
"""
from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from drills.stack import Redis, WorkerStack, plan, pool_processes, private_cache, quiet_env, wait_for
from drills.verdict import Verdict

HOOK = """#!/bin/sh
if [ ! -e "{marker}" ]; then
  touch "{marker}"
  sleep 30
fi
"""


def _git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def run(work: Path) -> Verdict:
    from ccmatrix.publish.history import History
    from producer.submit import submit, wait

    work.mkdir(parents=True)
    repo = work / "docs.git"
    _git("init", "--quiet", "--bare", "-b", "main", str(repo))
    marker = work / "hook-ran"
    hook = repo / "hooks" / "post-receive"
    hook.write_text(HOOK.format(marker=marker))
    hook.chmod(0o755)
    redis = Redis(work / "redis").start()
    out = work / "out"
    stack = WorkerStack(redis.url, out, work / "worker.log", concurrency=1,
                        extra_env=quiet_env(CCMATRIX_PUBLISHERS="directory,git", CCMATRIX_GIT_REPO=str(repo),
                                            CCMATRIX_CACHE_DIR=str(private_cache(work))))
    killed = None
    try:
        planned = plan(features=["basic_messaging_streaming"], providers=["anthropic"], tiers=["haiku"])
        result = submit(planned, stack.app)
        wait_for(marker.exists, timeout_s=180, what="the callback's push")
        pool = pool_processes(stack)
        if len(pool) == 1:
            killed = pool[0]
            os.kill(killed, signal.SIGKILL)
        summary = wait(planned, stack.app, result, timeout=120, poll_s=0.5)
    finally:
        stack.stop()
        redis.stop()
    log = (work / "worker.log").read_text(errors="replace")
    commits = [line for line in _git("log", "--format=%H %B", "main", cwd=repo).split("\n")
               if line.startswith("Run: ") and planned.run_id in line]
    entries = [e for e in History(out / "history").runs() if e.run_id == planned.run_id]
    problems = []
    if killed is None:
        problems.append("no single pool process to kill")
    elif "WorkerLostError" not in log and "SIGKILL" not in log:
        problems.append("the worker never saw its pool process die")
    if not summary.get("published"):
        problems.append(f"not published: {summary.get('reason')}")
    if len(commits) != 1:
        problems.append(f"{len(commits)} commits for the run")
    if len(entries) != 1:
        problems.append(f"{len(entries)} history entries for the run")
    return Verdict.check(problems, f"callback killed after its push, redelivered: published "
                                   f"{bool(summary.get('published'))}, {len(commits)} git commit, "
                                   f"{len(entries)} history entry")

