"""docker/compose.yaml: parses, has the services, wires them like the cluster, and holds no credential."""
from __future__ import annotations

import re

import pytest
import yaml

from ._helpers import DOCKER_DIR, PROJECT_ROOT

COMPOSE = DOCKER_DIR / "compose.yaml"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def _argv(service: dict) -> list[str]:
    command = service.get("command")
    assert isinstance(command, list), "exec-form commands only"
    return command


def test_services(compose):
    services = compose["services"]
    assert {"redis", "worker", "emulator", "flower", "enqueue"} <= set(services)
    for name, service in services.items():
        assert "image" in service, f"{name}: no image"
        image = service["image"]
        assert ":" in image and not image.endswith(":latest"), f"{name}: unpinned {image}"
        if "build" in service:
            dockerfile = PROJECT_ROOT / service["build"]["dockerfile"]
            assert (DOCKER_DIR / service["build"]["context"]).resolve() == PROJECT_ROOT
            assert dockerfile.exists(), f"{name}: {dockerfile} missing"


def test_workers_scale_and_shut_down_gracefully(compose):
    worker = compose["services"]["worker"]
    assert str(worker["deploy"]["replicas"]).startswith("${CCMATRIX_WORKERS")
    argv = _argv(worker)
    assert argv[:4] == ["celery", "-A", "producer", "worker"] and "-E" in argv
    assert any(a.startswith("--concurrency=${CCMATRIX_WORKER_CONCURRENCY") for a in argv)
    minutes = int(re.fullmatch(r"(\d+)m", worker["stop_grace_period"]).group(1))
    assert minutes * 60 > 1800, "longer than a job's time limit"
    env = worker["environment"]
    assert env["CCMATRIX_NETWORK_ISOLATION"] == "off"
    assert env["CCMATRIX_BROKER_URL"].startswith("redis://:${REDIS_PASSWORD:?")
    assert env["CCMATRIX_BROKER_URL"].endswith("@redis:6379/0")
    assert worker["depends_on"]["redis"]["condition"] == "service_healthy"
    assert worker["read_only"] is True and worker["cap_drop"] == ["ALL"]
    assert any(v.endswith(":/var/cache/ccmatrix") for v in worker["volumes"]), "a writable tool cache"


def test_redis_requires_a_password(compose):
    redis = compose["services"]["redis"]
    argv = _argv(redis)
    assert argv[argv.index("--requirepass") + 1].startswith("${REDIS_PASSWORD:?")
    assert all(p.startswith("127.0.0.1:") for p in redis.get("ports", [])), "published on loopback only"


def test_flower_basic_auth_from_env(compose):
    flower = compose["services"]["flower"]
    assert _argv(flower)[:4] == ["celery", "-A", "producer", "flower"]
    assert flower["environment"]["FLOWER_BASIC_AUTH"].startswith("${FLOWER_BASIC_AUTH:?"), \
        "compose refuses to start Flower without credentials"
    assert all(p.startswith("127.0.0.1:") for p in flower["ports"])


def test_enqueue_is_an_on_demand_profile(compose):
    enqueue = compose["services"]["enqueue"]
    assert enqueue["profiles"] == ["enqueue"]
    assert _argv(enqueue) == ["celery", "-A", "producer", "enqueue", "--wait"]
    assert enqueue["restart"] == "no"


def test_env_file_is_git_ignored():
    assert ".env" in (DOCKER_DIR / ".gitignore").read_text().split()
