"""The container suite (`make test-containers`): real images, a real compose stack, a real matrix.

Not part of `make test`: it needs a Docker engine (installed with apt-get and started here when missing, as root),
builds images and runs the stack for minutes. It runs only with CCMATRIX_CONTAINER_TESTS=1 (the Makefile target sets
it); otherwise nothing under tests/containers/ is collected.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

if os.environ.get("CCMATRIX_CONTAINER_TESTS") != "1":
    collect_ignore_glob = ["test_*.py"]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DOCKER = "/usr/bin/docker"  # apt's client (BuildKit); /usr/local/bin/docker may be a newer client without buildx
SOCKET = "/var/run/docker.sock"


def docker(*args: str, check: bool = True, timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([DOCKER, *args], capture_output=True, text=True, timeout=timeout, **kwargs)
    if check and done.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)}: {done.returncode}\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return done


def _engine_answers() -> bool:
    return (os.path.exists(DOCKER) and
            subprocess.run([DOCKER, "info"], capture_output=True, timeout=60).returncode == 0)


@pytest.fixture(scope="session")
def engine():
    """A Docker engine: apt-get install docker.io docker-compose debootstrap when missing, dockerd started in the
    background (no systemd) when none answers; stopped at the end only if started here."""
    started = None
    if not _engine_answers():
        if os.geteuid() != 0:
            pytest.skip("no Docker engine answers and not root: cannot install or start one")
        if not (os.path.exists(DOCKER) and shutil.which("dockerd") and shutil.which("debootstrap")
                and shutil.which("docker-compose")):
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            subprocess.run(["apt-get", "update", "-q"], capture_output=True, timeout=600, env=env)
            done = subprocess.run(["apt-get", "install", "-y", "-q", "docker.io", "docker-compose", "debootstrap"],
                                  capture_output=True, text=True, timeout=1200, env=env)
            assert done.returncode == 0, done.stderr[-2000:]
        log = open("/tmp/ccmatrix-dockerd.log", "ab")
        started = subprocess.Popen(["dockerd"], stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + 60
        while not _engine_answers():
            assert time.monotonic() < deadline, "dockerd did not answer within 60 s (/tmp/ccmatrix-dockerd.log)"
            time.sleep(1)
    yield DOCKER
    if started is not None:
        started.terminate()
        started.wait(timeout=60)
