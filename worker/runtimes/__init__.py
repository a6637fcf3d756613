"""Proxy runtimes: how the gateway under test is booted (today: a process from a cached, version-pinned venv)."""
from __future__ import annotations

from worker.runtimes.base import ProxyHandle, ProxyRuntime, ProxySpec, ProxyBootError


def get_runtime(name: str) -> ProxyRuntime:
    if name == "process":
        from worker.runtimes.process import ProcessRuntime

        return ProcessRuntime()
    raise ValueError(f"unknown proxy runtime {name!r} (process)")


__all__ = ["ProxyHandle", "ProxyRuntime", "ProxySpec", "ProxyBootError", "get_runtime"]
