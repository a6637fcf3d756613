"""Boot the proxy under test once per (LiteLLM version, config) in a worker process and reuse it across jobs."""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import httpx

from worker.runtimes import ProxyBootError, ProxySpec, get_runtime
from worker.runtimes.process import OFFLINE_ENV


@dataclass
class RunningProxy:
    key: tuple[str, str]
    handle: object
    master_key: str
    url: str  # as seen from inside the sandbox (what the CLI uses)
    boot_s: float


class ProxyPool:
    def __init__(self, runtime_name: str, boot_timeout_s: float):
        self.runtime = get_runtime(runtime_name)
        self.boot_timeout_s = boot_timeout_s
        self.current: RunningProxy | None = None

    def get(self, litellm_version: str, config_path, config_digest: str, sandbox) -> RunningProxy:
        key = (litellm_version, config_digest)
        if self.current and self.current.key == key and self.current.handle.alive():
            return self.current
        self.stop()
        master_key = "sk-ccmatrix-" + secrets.token_hex(12)
        spec = ProxySpec(litellm_version=litellm_version, config_path=config_path, master_key=master_key,
                         port=sandbox.port("proxy"), env=dict(OFFLINE_ENV),
                         log_path=config_path.parent / f"proxy-{litellm_version}-{config_digest}.log")
        started = time.monotonic()
        handle = self.runtime.start(spec, sandbox)
        self._wait_ready(handle, sandbox)
        self.current = RunningProxy(key, handle, master_key, sandbox.url("proxy"), time.monotonic() - started)
        return self.current

    def _wait_ready(self, handle, sandbox) -> None:
        deadline = time.monotonic() + self.boot_timeout_s
        with sandbox.client("proxy", timeout=2.0) as client:
            while True:
                if not handle.alive():
                    tail = handle.log_tail()
                    handle.stop()
                    raise ProxyBootError(f"proxy exited during boot: {tail[-1500:]}")
                try:
                    if client.get("/health/liveliness").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    tail = handle.log_tail()
                    handle.stop()
                    raise ProxyBootError(f"proxy not alive after {self.boot_timeout_s:.0f} s: {tail[-1500:]}")
                time.sleep(0.2)

    def stop(self) -> None:
        if self.current:
            self.current.handle.stop()
            self.current = None
