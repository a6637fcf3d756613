"""`celery -A producer enqueue` as a user runs it: a real Celery subcommand against a real Redis."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis
import yaml

from ccmatrix.manifest import DEFAULT_MANIFEST

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def _celery(args, broker, **kw):
    env = {**os.environ, "CCMATRIX_BROKER_URL": broker, "CCMATRIX_RESULT_BACKEND": broker}
    return subprocess.run([sys.executable, "-m", "celery", "-A", "producer", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, **kw)


def test_help_lists_the_options(redis_url):
    done = _celery(["enqueue", "--help"], redis_url, timeout=60)
    assert done.returncode == 0, done.stderr
    for option in ("--features", "--providers", "--tiers", "--litellm-version", "--claude-code-version", "--wait"):
        assert option in done.stdout


def test_bad_manifest_is_refused_before_anything_is_enqueued(redis_url, tmp_path):
    data = yaml.safe_load(DEFAULT_MANIFEST.read_text())
    data["features"][0]["check"] = "no_such_check"
    bad = tmp_path / "manifest.yaml"
    bad.write_text(yaml.safe_dump(data))
    empty_db = redis_url.rsplit("/", 1)[0] + "/7"
    redis.Redis.from_url(empty_db).flushdb()
    done = _celery(["enqueue", "--manifest", str(bad)], empty_db, timeout=60)
    assert done.returncode == 2
    assert "features[0].check" in done.stderr and "no_such_check" in done.stderr
    assert redis.Redis.from_url(empty_db).dbsize() == 0  # nothing reached the broker


def test_unknown_provider_is_refused(redis_url):
    empty_db = redis_url.rsplit("/", 1)[0] + "/8"
    done = _celery(["enqueue", "--providers", "openai"], empty_db, timeout=60)
    assert done.returncode == 2 and "unknown provider" in done.stderr
    assert redis.Redis.from_url(empty_db).dbsize() == 0


def test_enqueue_wait_publishes_with_a_running_worker(worker_stack):
    done = _celery(["enqueue", "--wait", "--providers", "anthropic", "--features", "basic_messaging_non_streaming",
                    "--tiers", "sonnet", "--timeout", "600"], worker_stack.redis_url, timeout=700)
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads(done.stdout[done.stdout.index("{"):])
    assert summary["published"] is True
    document = json.loads((worker_stack.out_dir / "compatibility-matrix.json").read_text())
    assert document["run_id"] == summary["run_id"]
    assert document["features"][0]["providers"]["anthropic"]["tiers"]["sonnet"]["status"] == "pass"


def test_fail_on_regression_exits_4_when_a_cell_turns_red(worker_stack):
    args = ["enqueue", "--wait", "--fail-on-regression", "--providers", "azure", "--features",
            "basic_messaging_non_streaming", "--tiers", "haiku", "--timeout", "600"]
    clean = _celery(args, worker_stack.redis_url, timeout=700)
    assert clean.returncode in (0, 4), clean.stdout + clean.stderr  # 4 only if an earlier test left it red
    broken = _celery(args + ["--emulator-fault", '{"provider": "azure", "status": 400}'], worker_stack.redis_url,
                     timeout=700)
    summary = json.loads(broken.stdout[broken.stdout.index("{"):])
    assert summary["published"] is True and summary["regression"] == "regressed"
    assert broken.returncode == 4, broken.stdout + broken.stderr
