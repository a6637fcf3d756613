"""Boot the proxy under test once per (LiteLLM version or local source spec, config) in a worker process and reuse it
across jobs."""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import httpx

from ccmatrix.local_source import slug
from ccmatrix.processes import ProcessExited, wait_until
from gateways import registry as gateways
from gateways.base import GatewayUnsupported
from worker.runtimes import ProxyBootError, ProxySpec, get_runtime


@dataclass
class RunningProxy:
    key: tuple[str, str]
    handle: object
    master_key: str
    url: str  # as seen from inside the sandbox (what the CLI uses)
    boot_s: float
    gateway: str = "litellm"  # the gateway plug-in under test (gateways/)
    config: dict | None = None  # its generated config (a plug-in may point the CLI with it: Gateway.client_env)


def crash_report(proxy: RunningProxy) -> str | None:
    """None while the gateway under test is running; once its process is gone (killed, crashed) the one `error`
    reason a tier gets, with the end of the gateway's own log (what it said before it died)."""
    handle = getattr(proxy, "handle", None)
    if handle is None or handle.alive():  # a proxy that cannot be asked is not known to have crashed
        return None
    tail = handle.log_tail(20).strip()[-1500:]
    return "gateway crashed: its process is gone; its log ends:\n" + (tail or "(empty)")


class ProxyPool:
    def __init__(self, runtime_name: str, boot_timeout_s: float):
        self.runtime = get_runtime(runtime_name)
        self.runtime_name = runtime_name
        self.boot_timeout_s = boot_timeout_s
        self.current: RunningProxy | None = None

    def get(self, litellm_version: str, config_path, config_digest: str, sandbox,
            env: dict[str, str] | None = None, gateway: str = "litellm") -> RunningProxy:
        """The running gateway for this release and config (booted now if needed); `env`: the real credentials its
        config names by `os.environ/<NAME>`."""
        key = (litellm_version, config_digest) if gateway == "litellm" else (gateway, litellm_version, config_digest)
        if self.current and self.current.key == key and self.current.handle.alive():
            return self.current
        self.stop()
        master_key = "sk-ccmatrix-" + secrets.token_hex(12)
        spec = ProxySpec(litellm_version=litellm_version, config_path=config_path, master_key=master_key,
                         port=sandbox.port("proxy"),
                         log_path=config_path.parent / f"proxy-{slug(litellm_version)}-{config_digest}.log",
                         env=dict(env or {}))
        started = time.monotonic()
        plugin = gateways.get(gateway)
        try:  # LiteLLM keeps this pool's runtime; another gateway boots with its own (or refuses this runtime)
            runtime = self.runtime if gateway == "litellm" else plugin.runtime(self.runtime_name)
        except GatewayUnsupported as error:
            raise ProxyBootError(str(error)) from None
        handle = runtime.start(spec, sandbox)
        self._wait_ready(handle, sandbox, plugin)
        self.current = RunningProxy(key, handle, master_key, sandbox.url("proxy"), time.monotonic() - started,
                                    gateway=gateway)
        return self.current

    def _wait_ready(self, handle, sandbox, plugin=None) -> None:
        def alive() -> bool:
            if not handle.alive():
                raise ProcessExited("proxy")
            if plugin is not None:
                return plugin.ready(client)  # its readiness path (LiteLLM: /health/liveliness)
            return client.get("/health/liveliness").status_code == 200

        try:
            with sandbox.client("proxy", timeout=2.0) as client:
                wait_until(alive, timeout_s=self.boot_timeout_s, interval_s=0.2, what="proxy",
                           retry_on=httpx.HTTPError)
        except (ProcessExited, TimeoutError) as error:
            tail = handle.log_tail()
            handle.stop()
            why = ("exited during boot" if isinstance(error, ProcessExited)
                   else f"not alive after {self.boot_timeout_s:.0f} s")
            raise ProxyBootError(f"proxy {why}: {tail[-1500:]}") from None

    def stop(self) -> None:
        if self.current:
            self.current.handle.stop()
            self.current = None
