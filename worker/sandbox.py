"""Where a job's emulator, proxy and CLI live: a loopback-only network namespace (or the host, as a fallback).

Isolated mode (root + `unshare`): an agent process (worker.sandbox_agent) is started with
`unshare --net --mount`; inside, only `lo` is up and /etc/resolv.conf points at the agent's own DNS recorder,
so any attempt to reach the internet fails at once and the name asked for is recorded as a finding.
Later processes join it with `nsenter`. The worker itself stays outside (it needs Redis) and reaches services
inside through Unix sockets the agent bridges to fixed loopback ports — httpx's UDS transport is the seam.

Production-shaped routing: the names in `resolve` (the providers' real hostnames) are answered by the DNS recorder
with 127.0.0.1, where the emulator serves HTTPS on port 443 (HTTPS_PORT; a fresh namespace, as root, has it free);
every other name is still refused and recorded. Only an isolated sandbox can do this (`production_routing`).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import httpx

from ccmatrix.processes import stop_group, wait_until

# Fixed ports inside a namespace (a fresh namespace has every port free).
SERVICE_PORTS = {"emulator": 18080, "proxy": 14000, "recorder": 14100}
# Where the emulator serves HTTPS for the providers' hostnames inside a namespace.
HTTPS_PORT = 443


class SandboxError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@lru_cache(maxsize=1)
def isolation_available() -> bool:
    if os.geteuid() != 0 or not (shutil.which("unshare") and shutil.which("nsenter") and shutil.which("ip")):
        return False
    probe = subprocess.run(
        ["unshare", "--net", "--mount", "sh", "-c", "ip link set lo up && mount --bind /dev/null /etc/hostname"],
        capture_output=True,
        timeout=20,
    )
    return probe.returncode == 0


def want_isolation(setting: str) -> bool:
    if setting == "off":
        return False
    if setting == "on":
        if not isolation_available():
            raise SandboxError("network isolation requested but unshare/nsenter as root are not available")
        return True
    return isolation_available()


class Sandbox:
    def __init__(self, root: Path, isolated: bool, resolve: tuple[str, ...] | list[str] = ()):
        self.root = Path(root)
        self.isolated = isolated
        self.resolve = tuple(resolve)   # hostnames the sandbox's DNS answers with 127.0.0.1 (isolated only)
        # What the gateway process, and no other, gets on top of its environment: the per-run CA it trusts
        # (set by worker.environment once the emulator has written it).
        self.gateway_env: dict[str, str] = {}
        self.agent: subprocess.Popen | None = None
        self._ports: dict[str, int] = {}

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> "Sandbox":
        self.root.mkdir(parents=True, exist_ok=True)
        if not self.isolated:
            return self
        resolv = self.root / "resolv.conf"
        resolv.write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        ready = self.root / "agent.ready"
        ready.unlink(missing_ok=True)
        script = 'ip link set lo up && mount --bind "$1" /etc/resolv.conf && shift && exec "$@"'
        forwards = [f"--forward={name}.sock:{port}" for name, port in SERVICE_PORTS.items()]
        names = [f"--resolve={name}" for name in self.resolve]
        cmd = ["unshare", "--net", "--mount", "--propagation", "private", "sh", "-c", script, "sh", str(resolv),
               sys.executable, "-m", "worker.sandbox_agent", "--dir", str(self.root), *forwards, *names]
        log = open(self.root / "agent.log", "ab")
        self.agent = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                                      env=_python_env(), preexec_fn=die_with_parent)

        def agent_ready() -> bool:
            if ready.exists():
                return True
            if self.agent.poll() is not None:
                raise SandboxError(f"sandbox agent exited: {(self.root / 'agent.log').read_text()[-800:]}")
            return False

        try:
            wait_until(agent_ready, timeout_s=20, interval_s=0.02, what="sandbox agent")
        except TimeoutError:
            self.stop()
            raise SandboxError("sandbox agent did not become ready in 20 s") from None
        return self

    def stop(self) -> None:
        stop_group(self.agent, grace_s=5)
        self.agent = None

    @property
    def production_routing(self) -> bool:
        """True when the providers' real hostnames lead to the emulator here (an isolated sandbox that resolves
        them); otherwise the gateway must be pointed at the emulator's URL (providers.base.DirectEmulatorURL)."""
        return self.isolated and bool(self.resolve)

    def alive(self) -> bool:
        return not self.isolated or (self.agent is not None and self.agent.poll() is None)

    # --- running things inside ---------------------------------------------------------------------
    def wrap(self, cmd: list[str], cwd: str | Path | None = None) -> list[str]:
        """The command line that runs `cmd` inside the sandbox (nsenter keeps no cwd: pass it)."""
        if not self.isolated:
            return list(cmd)
        assert self.agent is not None, "sandbox not started"
        pid = self.agent.pid
        wd = [f"--wd={cwd}"] if cwd else [f"--wd={os.getcwd()}"]
        return ["nsenter", f"--net=/proc/{pid}/ns/net", f"--mount=/proc/{pid}/ns/mnt", *wd, "--", *cmd]

    def port(self, service: str) -> int:
        """The port a service binds to (inside the namespace, or on the host)."""
        if self.isolated:
            return SERVICE_PORTS[service]
        if service not in self._ports:
            self._ports[service] = free_port()
        return self._ports[service]

    def url(self, service: str) -> str:
        """The URL of a service as seen from inside the sandbox."""
        return f"http://127.0.0.1:{self.port(service)}"

    def client(self, service: str, timeout: float = 30.0) -> httpx.Client:
        """An HTTP client the worker (outside) uses to reach a service inside."""
        # Plain HTTP on loopback or a Unix socket: verify=False skips building a TLS context (~20 ms of CPU each).
        if self.isolated:
            transport = httpx.HTTPTransport(uds=str(self.root / f"{service}.sock"), verify=False)
            return httpx.Client(transport=transport, base_url=f"http://127.0.0.1:{self.port(service)}",
                                timeout=timeout, verify=False)
        return httpx.Client(base_url=self.url(service), timeout=timeout, verify=False)

    # --- findings ---------------------------------------------------------------------------------
    def egress_attempts(self, since: float = 0.0) -> list[str]:
        """Names looked up from inside the sandbox since `since` (epoch seconds) and refused: attempted egress."""
        return self._names("egress.jsonl", since)

    def resolved(self, since: float = 0.0) -> list[str]:
        """Providers' hostnames looked up since `since` and answered with the emulator's address (not egress)."""
        return self._names("resolved.jsonl", since)

    def _names(self, filename: str, since: float) -> list[str]:
        path = self.root / filename
        if not path.exists():
            return []
        found = []
        for line in path.read_text().splitlines():
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if item.get("ts", 0) >= since and item.get("name") not in found:
                found.append(item["name"])
        return found


def _python_env() -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    project_root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [project_root, env.get("PYTHONPATH")]))
    return env


def die_with_parent() -> None:
    """preexec_fn: the child gets SIGTERM when the worker process that started it dies (even by SIGKILL), so a
    killed worker never leaves a proxy, an emulator or a CLI run behind. nsenter execs, so it carries over."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except OSError:
        pass
