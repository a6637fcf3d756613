"""The embedded default: a Redis and a Celery worker of our own, started for one run and stopped after it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis

from ccmatrix.provision import redis_server_binary
from worker.sandbox import free_port

PROJECT_ROOT = Path(__file__).resolve().parent.parent


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
        deadline = time.monotonic() + 15
        while True:
            try:
                client.ping()
                return url
            except redis.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start (see {self.log_dir / 'redis.log'})")
                time.sleep(0.05)

    def start_worker(self, env: dict[str, str], concurrency: int, name: str = "ccmatrix-local") -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "ab")
        cmd = [sys.executable, "-m", "celery", "-A", "producer", "worker", "--loglevel=INFO", "--pool=prefork",
               f"--concurrency={concurrency}", "-n", f"{name}-{os.getpid()}@%h", "--without-gossip",
               "--without-mingle", "-E"]
        process = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                   start_new_session=True)
        self.processes.append((name, process))
        return process

    def stop(self) -> None:
        # Workers first (a warm shutdown lets them stop their proxies and sandboxes), Redis last.
        for name, process in reversed(self.processes):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for name, process in reversed(self.processes):
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait(5)
        self.processes.clear()
