"""The default proxy runtime: `litellm --config ...` from the cached venv of the release (or local source) under
test, inside the sandbox."""
from __future__ import annotations

import subprocess
from pathlib import Path

from ccmatrix.processes import stop_group
from ccmatrix.provision import ensure_litellm, proxy_script
from ccmatrix.settings import get_settings
from worker.runtimes.base import ProxyBootError, ProxySpec
from worker.sandbox import die_with_parent

# The offline switches measured in ../shared/notes/litellm-proxy.md.
OFFLINE_ENV = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "True",
    "LITELLM_LOCAL_AUTOROUTER_PRESETS": "True",
    "LITELLM_LOCAL_BLOG_POSTS": "True",
    "LITELLM_LOCAL_POLICY_TEMPLATES": "True",
    "LITELLM_LOG": "WARNING",
}


class ProcessHandle:
    def __init__(self, process: subprocess.Popen, base_url: str, log_path: Path):
        self.process = process
        self.base_url = base_url
        self.log_path = log_path

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        stop_group(self.process, grace_s=10)


class ProcessRuntime:
    name = "process"

    def start(self, spec: ProxySpec, sandbox) -> ProcessHandle:
        venv = ensure_litellm(get_settings().cache_dir, spec.litellm_version)
        env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(spec.config_path.parent),
               **OFFLINE_ENV, "LITELLM_MASTER_KEY": spec.master_key,
               **getattr(sandbox, "gateway_env", {}),   # the per-run CA, for production-shaped routing
               **spec.env}   # real credentials, which the config names by os.environ/<NAME>
        cmd = [str(proxy_script(venv)), "--config", str(spec.config_path), "--host", "127.0.0.1",
               "--port", str(spec.port), "--num_workers", "1"]
        return spawn(cmd, env, spec, sandbox, "litellm")


def spawn(cmd: list[str], env: dict[str, str], spec: ProxySpec, sandbox, what: str) -> ProcessHandle:
    """Start a gateway process inside the sandbox (its own session, dying with its parent), its output in a fresh
    log per boot (a boot error must not show an older boot's tail)."""
    log_path = spec.log_path or spec.config_path.with_suffix(".log")
    log = open(log_path, "wb")
    try:
        process = subprocess.Popen(sandbox.wrap(cmd, cwd=spec.config_path.parent), stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=log, env=env, start_new_session=True,
                                   preexec_fn=die_with_parent)
    except OSError as error:
        raise ProxyBootError(f"could not start {what}: {error}") from None
    finally:
        log.close()
    return ProcessHandle(process, f"http://127.0.0.1:{spec.port}", log_path)
