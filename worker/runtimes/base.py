"""The seam between the worker and the gateway process under test."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


class ProxyBootError(RuntimeError):
    """The proxy under test did not come up: an infrastructure `error`, never a gateway `fail`."""


@dataclass(frozen=True)
class ProxySpec:
    litellm_version: str  # a release, or a local source spec (ccmatrix.local_source)
    config_path: Path  # the generated LiteLLM config (YAML), readable by the runtime
    master_key: str
    port: int  # port to bind (inside the sandbox for the process runtime)
    log_path: Path | None = None
    # Real credentials the config names by `os.environ/<NAME>` (providers.base.env_reference): the gateway process's
    # environment is the only place they are put.
    env: dict[str, str] = field(default_factory=dict, repr=False)


class ProxyHandle(Protocol):
    base_url: str

    def alive(self) -> bool: ...

    def log_tail(self, lines: int = 40) -> str: ...

    def stop(self) -> None: ...


class ProxyRuntime(Protocol):
    name: str

    def start(self, spec: ProxySpec, sandbox) -> ProxyHandle:
        """Boot the proxy and return once its process is started (readiness is polled by the caller)."""
        ...
