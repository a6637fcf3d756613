"""Per worker-process state: the sandbox, the emulator inside it and the proxy pool, started once and reused.

Two environments may exist: `emulated` (isolated sandbox + emulator; the default) and `real` (columns with real
credentials: no emulator, no network isolation, so the proxy can reach the provider).

Emulated, in an isolated sandbox, routing is production-shaped: the gateway's config is what a user writes (no
api_base where production has none), the sandbox's DNS answers the providers' hostnames with the emulator's
address, the emulator serves them over HTTPS with a per-run CA's certificate, and the gateway process — and nothing
else — trusts that CA (SSL_CERT_FILE / REQUESTS_CA_BUNDLE). Without a namespace the gateway is pointed at the
emulator's URL instead (providers.base.DirectEmulatorURL).
"""
from __future__ import annotations

import atexit
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from ccmatrix.manifest import Manifest
from ccmatrix.processes import ProcessExited, stop_group, wait_until
from ccmatrix.settings import Settings
from gateways import registry as gateways
from providers import registry
from providers.base import DirectEmulatorURL, host_map
from worker.proxy import ProxyPool, RunningProxy
from worker.proxy_config import build_config
from worker.sandbox import HTTPS_PORT, Sandbox, die_with_parent, want_isolation


class EnvironmentError_(RuntimeError):
    """Infrastructure trouble setting up a job's environment: an `error` outcome."""


class JobEnvironment:
    def __init__(self, settings: Settings, real: bool):
        self.settings = settings
        self.real = real
        tag = "real" if real else "emulated"
        self.root = Path(settings.cache_dir) / "run" / f"{socket.gethostname()}-{os.getpid()}-{tag}"
        isolated = False if real else want_isolation(settings.network_isolation)
        # the providers' hostnames (production-shaped routing) -> provider ids; only an isolated sandbox serves them
        self.hosts = host_map(registry.all(), settings) if isolated else {}
        self.sandbox = Sandbox(self.root, isolated, resolve=sorted(self.hosts))
        self.emulator: subprocess.Popen | None = None
        self.recorder: subprocess.Popen | None = None
        # The client side is only recorded where the upstream side is captured too (emulator mode).
        self.fidelity = settings.fidelity and not real
        self.pool = ProxyPool(settings.proxy_runtime, settings.proxy_boot_timeout_s)
        self.started = False

    # --- lifecycle -------------------------------------------------------------------------------
    def ensure_started(self) -> None:
        if self.started and self.sandbox.alive() and (self.real or self._emulator_alive()):
            return
        self.stop()
        self.sandbox.start()
        if not self.real:
            port = self.sandbox.port("emulator")
            args = ["-m", "emulator", "--host", "127.0.0.1", "--port", str(port),
                    "--data-dir", str(self.root / "emulator"), "--latency", self.settings.emulator_latency]
            tls_dir = self.root / "tls"
            if self.sandbox.production_routing:
                routing = self.root / "routing.json"
                routing.write_text(json.dumps(self.hosts, indent=1, sort_keys=True))
                (tls_dir / "ca.pem").unlink(missing_ok=True)   # a CA of this start's own, never an older one
                args += ["--https-port", str(HTTPS_PORT), "--tls-dir", str(tls_dir), "--hosts-file", str(routing)]
            self.emulator = self._start_service("emulator", args, "/_emulator/health")
            # the per-run CA: trusted by the gateway process only (worker/runtimes/process.py adds this to its env)
            self.sandbox.gateway_env = ({"SSL_CERT_FILE": str(tls_dir / "ca.pem"),
                                         "REQUESTS_CA_BUNDLE": str(tls_dir / "ca.pem")}
                                        if self.sandbox.production_routing else {})
        if self.fidelity:
            self.recorder = self._start_service(
                "recorder", ["-m", "fidelity.recorder", "--listen-port", str(self.sandbox.port("recorder")),
                             "--upstream", self.sandbox.url("proxy"), "--data-dir", str(self.root / "recorder")],
                "/_recorder/health")
        self.started = True

    def _emulator_alive(self) -> bool:
        return all(p is not None and p.poll() is None
                   for p in ([self.emulator] + ([self.recorder] if self.fidelity else [])))

    def _start_service(self, name: str, args: list[str], health: str) -> subprocess.Popen:
        """Start one of our Python services inside the sandbox and wait until it answers its health path."""
        (self.root / name).mkdir(parents=True, exist_ok=True)
        log = open(self.root / f"{name}.log", "ab")
        project_root = str(Path(__file__).resolve().parent.parent)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "PYTHONPATH": project_root}
        process = subprocess.Popen(self.sandbox.wrap([sys.executable, *args], cwd=project_root),
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env, start_new_session=True,
                                   preexec_fn=die_with_parent)
        log.close()

        def healthy() -> bool:
            try:
                if client.get(health).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            if process.poll() is not None:
                raise ProcessExited(name)
            return False

        try:
            with self.sandbox.client(name, timeout=2) as client:
                wait_until(healthy, timeout_s=30, interval_s=0.05, what=name)
        except (TimeoutError, ProcessExited):
            tail = (self.root / f"{name}.log").read_text(errors="replace")[-1200:]
            stop_group(process, grace_s=5)
            raise EnvironmentError_(f"{name} did not start: {tail}") from None
        return process

    def stop(self) -> None:
        self.pool.stop()
        for process in (self.recorder, self.emulator):
            stop_group(process, grace_s=5)
        self.emulator = self.recorder = None
        self.sandbox.stop()
        self.started = False
        if not self.settings.keep_run_files:
            shutil.rmtree(self.root, ignore_errors=True)  # configs, logs, captures: a daily worker must not grow

    def end_job(self, job_id: str) -> None:
        """Forget a finished tier run's captures (memory and disk) unless asked to keep them."""
        if self.settings.keep_run_files or self.real:
            return
        for service, path in (("emulator", "/_emulator/captures"), ("recorder", "/_recorder/captures")):
            if service == "recorder" and not self.fidelity:
                continue
            try:
                with self.sandbox.client(service, timeout=5) as client:
                    client.delete(path, params={"job_id": job_id})
            except httpx.HTTPError:
                pass

    # --- per job ---------------------------------------------------------------------------------
    def proxy(self, manifest: Manifest, litellm_version: str, extra_params: dict | None = None,
              profile: str | None = None, gateway: str = "litellm") -> RunningProxy:
        """The running gateway for this job: `litellm_version` is the release of `gateway` (a gateways/ plug-in)."""
        self.ensure_started()
        emulator_url = self.sandbox.url("emulator")
        if not self.sandbox.production_routing:
            emulator_url = DirectEmulatorURL(emulator_url)
        if gateway != "litellm":  # a plug-in's own config (gateways/<name>/); extra_params are LiteLLM params
            plugin = gateways.get(gateway)
            config = plugin.build_config(manifest, self.settings, emulator_url, self.root / "emulator",
                                         real=self.real, profile=profile)
            path, digest = plugin.write_config(config, self.root / "proxy")
            running = self.pool.get(litellm_version, path, digest, self.sandbox, gateway=gateway)
            running.config = config
            return running
        config = build_config(manifest, self.settings, emulator_url, self.root / "emulator",
                              real=self.real, profile=profile)
        for entry in config["model_list"]:
            entry["litellm_params"].update(extra_params or {})
        path, digest = gateways.get("litellm").write_config(config, self.root / "proxy")
        return self.pool.get(litellm_version, path, digest, self.sandbox,
                             env=registry.gateway_env(self.settings) if self.real else {})

    def begin_job(self, job_id: str, faults: list[dict] | None = None, scenario: dict | None = None) -> None:
        if self.real:
            return
        with self.sandbox.client("emulator") as client:
            response = client.post("/_emulator/jobs", json={"job_id": job_id, "faults": faults or [],
                                                            "scenario": scenario or {}})
            response.raise_for_status()

    def set_faults(self, faults: list[dict]) -> None:
        if self.real:
            return
        with self.sandbox.client("emulator") as client:
            client.delete("/_emulator/faults").raise_for_status()
            for fault in faults:
                client.post("/_emulator/faults", json=fault).raise_for_status()

    def client_url(self, proxy_url: str, job_id: str) -> str:
        """The base URL the CLI is given: through the recorder (tagged with the job) when fidelity is on."""
        if self.fidelity:
            return f"{self.sandbox.url('recorder')}/_job/{job_id}"
        return proxy_url

    def client_captures(self, job_id: str) -> list[dict]:
        if not self.fidelity:
            return []
        with self.sandbox.client("recorder") as client:
            response = client.get("/_recorder/captures", params={"job_id": job_id})
            response.raise_for_status()
            return response.json().get("captures", [])

    def captures(self, job_id: str) -> list[dict]:
        if self.real:
            return []
        with self.sandbox.client("emulator") as client:
            response = client.get("/_emulator/captures", params={"job_id": job_id})
            response.raise_for_status()
            return response.json().get("captures", [])


_ENVIRONMENTS: dict[bool, JobEnvironment] = {}


def environment_for(settings: Settings, real: bool) -> JobEnvironment:
    env = _ENVIRONMENTS.get(real)
    if env is None:
        env = _ENVIRONMENTS[real] = JobEnvironment(settings, real)
    return env


def shutdown_all() -> None:
    for env in list(_ENVIRONMENTS.values()):
        try:
            env.stop()
        except Exception:
            pass
    _ENVIRONMENTS.clear()


atexit.register(shutdown_all)
