"""Proxy runtimes: how the gateway under test is booted: `process` (a process from a cached, version-pinned venv,
inside the worker's sandbox) or `docker` (a sibling container from the gateway image of the release, started through
the Docker API; worker/runtimes/docker.py)."""
from __future__ import annotations

from worker.runtimes.base import ProxyHandle, ProxyRuntime, ProxySpec, ProxyBootError


def get_runtime(name: str) -> ProxyRuntime:
    if name == "process":
        from worker.runtimes.process import ProcessRuntime

        return ProcessRuntime()
    if name == "docker":
        from worker.runtimes.docker import DockerRuntime

        return DockerRuntime()
    raise ValueError(f"unknown proxy runtime {name!r} (process, docker)")


__all__ = ["ProxyHandle", "ProxyRuntime", "ProxySpec", "ProxyBootError", "get_runtime"]
