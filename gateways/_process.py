"""Booting a gateway that is not LiteLLM: one process from its provisioned release, inside the worker's sandbox
(the `process` runtime; the docker runtime has gateway images for LiteLLM only)."""
from __future__ import annotations

from gateways.base import GatewayUnsupported


class GatewayProcessRuntime:
    name = "process"

    def __init__(self, gateway):
        self.gateway = gateway

    def start(self, spec, sandbox):
        """`spec`: worker.runtimes.ProxySpec (its `litellm_version` field carries this gateway's release)."""
        from ccmatrix.settings import get_settings
        from worker.runtimes.base import ProxyBootError
        from worker.runtimes.process import spawn

        if not getattr(sandbox, "production_routing", False):
            raise ProxyBootError(f"{self.gateway.name} runs only with production-shaped routing (an isolated "
                                 "sandbox: root and unshare, CCMATRIX_NETWORK_ISOLATION=auto|on); its plug-in "
                                 "configures the providers' real hostnames only")
        install = self.gateway.provision(get_settings().cache_dir, spec.litellm_version)
        cmd, env = self.gateway.command(install, spec, dict(getattr(sandbox, "gateway_env", {})))
        return spawn(cmd, env, spec, sandbox, self.gateway.name)


def runtime_for(gateway, name: str):
    if name != "process":
        raise GatewayUnsupported(f"{gateway.name} runs only with CCMATRIX_PROXY_RUNTIME=process (the docker "
                                 f"runtime has gateway images for LiteLLM only), not {name!r}")
    return GatewayProcessRuntime(gateway)


def node_env(install, gateway_env: dict[str, str], home) -> dict[str, str]:
    """A node gateway's environment: nothing of the worker's; the per-run CA (gateway_env's SSL_CERT_FILE) as
    NODE_EXTRA_CA_CERTS, which Node's TLS (and its fetch) reads on top of its bundled roots."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(home), "NODE_ENV": "production"}
    ca = gateway_env.get("SSL_CERT_FILE")
    if ca:
        env["NODE_EXTRA_CA_CERTS"] = ca
    return env
