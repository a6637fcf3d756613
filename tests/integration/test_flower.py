"""Flower, all real: a `celery -A producer flower` process on the session's Redis, real workers, real runs.

- Basic auth is enforced (401 without or with wrong credentials), both as `--basic-auth` and as the
  FLOWER_BASIC_AUTH environment variable the cluster and compose stack use.
- The tasks of a real `ccmatrix run` (its own worker, this Redis) show in Flower's HTTP API (/api/tasks).
- `celery -A producer enqueue --wait` against the same Redis as a standing worker publishes, and Flower shows it.

Redis: the shared session fixture `redis_url` (tests/conftest.py); each test uses its own database number on that
server so Celery's event channels (prefixed by the db) never mix between tests.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.integration

PROJECT_ROOT = Path(__file__).resolve().parents[2]
USER, PASSWORD = "ccmatrix", "flower-test-pass"
FEATURE, PROVIDER = "basic_messaging_non_streaming", "anthropic"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _db(redis_url: str, number: int) -> str:
    return f"{redis_url.rsplit('/', 1)[0]}/{number}"


def _base_env(broker: str, out_dir: Path) -> dict[str, str]:
    # the session's pinned manifest (tests/conftest.py) stays: the shipped one says `latest`
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCMATRIX_", "FLOWER_"))
           or k == "CCMATRIX_MANIFEST_PATH"}
    env.update({"CCMATRIX_BROKER_URL": broker, "CCMATRIX_RESULT_BACKEND": broker, "CCMATRIX_OUT_DIR": str(out_dir),
                "CCMATRIX_CACHE_DIR": str(PROJECT_ROOT / ".cache")})
    return env


class Flower:
    """A real Flower process; `auth` via the flag (`--basic-auth=`) or the environment (FLOWER_BASIC_AUTH)."""

    def __init__(self, broker: str, log_path: Path, auth_via: str = "flag"):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = _base_env(broker, log_path.parent)
        argv = [sys.executable, "-m", "celery", "-A", "producer", "--broker", broker, "flower",
                "--address=127.0.0.1", f"--port={self.port}"]
        if auth_via == "flag":
            argv.append(f"--basic-auth={USER}:{PASSWORD}")
        else:
            env["FLOWER_BASIC_AUTH"] = f"{USER}:{PASSWORD}"
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.process = subprocess.Popen(argv, cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=self.log,
                                        stderr=self.log, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.url}/healthcheck", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"flower did not start:\n{log_path.read_text(errors='replace')[-3000:]}")
            time.sleep(0.1)
        time.sleep(1.5)  # let the event receiver subscribe before anything is sent

    def get(self, path: str, auth: tuple[str, str] | None = (USER, PASSWORD), **params) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", auth=auth, params=params, timeout=10)

    def tasks(self, **params) -> dict[str, dict]:
        response = self.get("/api/tasks", **params)
        response.raise_for_status()
        return response.json()

    def wait_for_tasks(self, predicate, timeout: float = 60) -> dict[str, dict]:
        deadline = time.monotonic() + timeout
        while True:
            tasks = self.tasks()
            if predicate(tasks):
                return tasks
            if time.monotonic() > deadline:
                return tasks
            time.sleep(0.5)

    def stop(self) -> None:
        from ccmatrix.processes import stop_group

        stop_group(self.process, grace_s=15)
        self.log.close()


@pytest.fixture
def flower_factory(tmp_path):
    started: list[Flower] = []

    def start(broker: str, auth_via: str = "flag") -> Flower:
        flower = Flower(broker, tmp_path / f"flower-{len(started)}.log", auth_via)
        started.append(flower)
        return flower

    yield start
    for flower in started:
        flower.stop()


def _assert_auth_enforced(flower: Flower) -> None:
    for path in ("/api/tasks", "/api/workers", "/"):
        assert flower.get(path, auth=None).status_code == 401, path
        assert flower.get(path, auth=(USER, "wrong")).status_code == 401, path
    assert flower.get("/api/tasks").status_code == 200
    assert flower.get("/healthcheck", auth=None).status_code == 200  # the probe route stays open


def _run_tasks(tasks: dict[str, dict], run_id: str) -> dict[str, list[dict]]:
    by_name: dict[str, list[dict]] = {}
    for uuid, task in tasks.items():
        if run_id in uuid or run_id in json.dumps([task.get("args"), task.get("kwargs")], default=str):
            by_name.setdefault(task.get("name") or "?", []).append(task)
    return by_name


def _finished(run_id: str):
    def predicate(tasks):
        by_name = _run_tasks(tasks, run_id)
        return (any(t["state"] == "SUCCESS" for t in by_name.get("ccmatrix.finish_run", []))
                and by_name.get("ccmatrix.run_cell") and all(t["state"] == "SUCCESS"
                                                             for t in by_name["ccmatrix.run_cell"]))
    return predicate


def test_flower_enforces_basic_auth_from_the_environment(redis_url, flower_factory):
    """The wiring of the k8s Deployment and the compose service: FLOWER_BASIC_AUTH, no flag."""
    flower = flower_factory(_db(redis_url, 15), auth_via="env")
    _assert_auth_enforced(flower)


def test_flower_shows_the_tasks_of_a_real_ccmatrix_run(redis_url, tools, flower_factory, tmp_path):
    broker = _db(redis_url, 14)
    flower = flower_factory(broker, auth_via="flag")
    _assert_auth_enforced(flower)
    out_dir = tmp_path / "out"
    env = _base_env(broker, out_dir)
    done = subprocess.run([str(Path(sys.executable).parent / "ccmatrix"), "run", "--providers", PROVIDER,
                           "--features", FEATURE, "--tiers", "haiku"],
                          cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, f"ccmatrix run failed:\n{done.stdout}\n{done.stderr[-3000:]}"
    summary = json.loads(done.stdout[done.stdout.index("{"):])
    run_id = summary["run_id"]
    assert summary["published"] and (out_dir / "compatibility-matrix.json").exists()

    tasks = flower.wait_for_tasks(_finished(run_id))
    by_name = _run_tasks(tasks, run_id)
    assert [t["state"] for t in by_name.get("ccmatrix.run_cell", [])] == ["SUCCESS"], tasks
    assert [t["state"] for t in by_name.get("ccmatrix.finish_run", [])] == ["SUCCESS"], tasks
    cell = by_name["ccmatrix.run_cell"][0]
    assert cell["worker"] and cell["runtime"] > 0
    # the filters of the API work too, and still need the credentials
    assert flower.get("/api/tasks", auth=None, taskname="ccmatrix.run_cell").status_code == 401
    named = flower.tasks(taskname="ccmatrix.run_cell")
    assert any(run_id in uuid for uuid in named)
    assert flower.get(f"/api/task/info/{next(u for u in named if run_id in u)}").status_code == 200


def test_enqueue_wait_with_a_standing_worker_shows_in_flower(redis_url, worker_stack, flower_factory, tmp_path):
    """`celery -A producer enqueue --wait` against the Redis a standing worker serves (what the CronJob runs)."""
    flower = flower_factory(worker_stack.redis_url, auth_via="flag")
    env = _base_env(worker_stack.redis_url, worker_stack.out_dir)
    done = subprocess.run([sys.executable, "-m", "celery", "-A", "producer", "enqueue", "--providers", PROVIDER,
                           "--features", FEATURE, "--tiers", "haiku", "--wait", "--timeout", "540"],
                          cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, f"enqueue --wait failed:\n{done.stdout}\n{done.stderr[-3000:]}"
    run_id = done.stdout.split("enqueued run ", 1)[1].split(":", 1)[0].strip()
    assert json.loads(done.stdout[done.stdout.index("{"):])["published"] is True
    tasks = flower.wait_for_tasks(_finished(run_id))
    by_name = _run_tasks(tasks, run_id)
    assert by_name.get("ccmatrix.run_cell") and by_name.get("ccmatrix.finish_run"), tasks
    assert all(t["state"] == "SUCCESS" for group in by_name.values() for t in group)
