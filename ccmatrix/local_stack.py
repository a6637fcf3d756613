"""The embedded default: a Redis and a Celery worker of our own, started for one run and stopped after it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import redis

from ccmatrix.processes import ProcessExited, stop_groups, wait_until
from ccmatrix.provision import redis_server_binary
from worker.sandbox import free_port

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# What each process we start is, for the one line that says it died.
WHAT = {"redis": ("the local broker", "redis-server")}


class LocalStack:
    def __init__(self, cache_dir: Path, log_dir: Path):
        self.cache_dir = Path(cache_dir)
        self.log_dir = Path(log_dir)
        self.processes: list[tuple[str, subprocess.Popen]] = []

    def start_redis(self) -> str:
        port = free_port()
        data = self.cache_dir / "redis" / str(port)
        data.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / "redis.log", "ab")
        process = subprocess.Popen(
            [str(redis_server_binary()), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(data)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        self.processes.append(("redis", process))
        url = f"redis://127.0.0.1:{port}/0"
        client = redis.Redis.from_url(url)

        def answers() -> bool:
            try:
                client.ping()
                return True
            except redis.ConnectionError:
                if process.poll() is not None:
                    raise ProcessExited("redis-server") from None
                return False

        try:
            wait_until(answers, timeout_s=15, interval_s=0.05, what="redis-server")
        except (TimeoutError, ProcessExited):
            raise RuntimeError(f"redis-server did not start (see {self.log_dir / 'redis.log'})") from None
        return url

    def start_worker(self, env: dict[str, str], concurrency: int, name: str = "ccmatrix-local") -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "ab")
        cmd = [sys.executable, "-m", "celery", "-A", "producer", "worker", "--loglevel=INFO", "--pool=prefork",
               f"--concurrency={concurrency}", "-n", f"{name}-{os.getpid()}@%h", "--without-gossip",
               "--without-mingle", "-E"]
        process = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                   start_new_session=True)
        self.processes.append((name, process))
        return process

    def dead(self) -> str | None:
        """What died, if anything we started is no longer running: the broker first (a worker without its broker
        is a consequence, not the cause). One line, e.g. "the local broker (redis-server, pid 12) was killed by
        SIGKILL"."""
        for name, process in sorted(self.processes, key=lambda item: item[0] != "redis"):
            code = process.poll()
            if code is None:
                continue
            what, program = WHAT.get(name, ("the local worker", "celery"))
            return f"{what} ({program}, pid {process.pid}) {_how(code)}"
        return None

    @property
    def broker_started(self) -> bool:
        return any(name == "redis" for name, _ in self.processes)

    def broker_dead(self) -> bool:
        return any(name == "redis" and process.poll() is not None for name, process in self.processes)

    def stop(self) -> None:
        # Workers first (a warm shutdown lets them stop their proxies and sandboxes), Redis last. Without its broker
        # a worker can neither acknowledge nor store anything, and its warm shutdown waits on a broker that never
        # comes back: it gets a few seconds, not thirty.
        grace = 5 if self.broker_dead() else 30
        # Each whole group, also when its leader is gone: a dead worker's pool processes must not outlive it.
        stop_groups((process, grace if name != "redis" else 30) for name, process in reversed(self.processes))
        self.processes.clear()


def _how(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with {code}"
