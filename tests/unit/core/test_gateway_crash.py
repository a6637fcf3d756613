"""A gateway that dies mid-tier: the tier is `error` "gateway crashed" with the end of the gateway's log, whatever
the check made of it (drills/gateway_crash.py runs the same against a real stack)."""
from __future__ import annotations

import subprocess
from types import SimpleNamespace

from ccmatrix.outcomes import Status, TierResult
from ccmatrix.settings import Settings
from worker.proxy import RunningProxy, crash_report
from worker.runtimes.process import ProcessHandle
from worker.sandbox import Sandbox
from worker.tier import CellSetup, run_tier


def _gateway(tmp_path, alive: bool) -> RunningProxy:
    log = tmp_path / "proxy.log"
    log.write_text("INFO: Uvicorn running on http://127.0.0.1:14000\nkilled here\n")
    process = subprocess.Popen(["sleep", "30"], start_new_session=True)
    if not alive:
        process.kill()
        process.wait()
    return RunningProxy(("v", "d"), ProcessHandle(process, "http://127.0.0.1:1", log), "k", "http://127.0.0.1:1", 0.0)


class Passing:
    decisive = ()
    max_model_calls = 12

    def run(self, ctx):
        return TierResult.passed()


def _setup(tmp_path, proxy) -> CellSetup:
    env = SimpleNamespace(fidelity=False, sandbox=Sandbox(tmp_path / "sbx", isolated=False),
                          begin_job=lambda *a: None, end_job=lambda *a: None, client_url=lambda url, job: url,
                          captures=lambda job: [], client_captures=lambda job: [], set_faults=lambda f: None)
    job = SimpleNamespace(run_id="r", feature="basic_messaging_streaming", provider="anthropic", faults=[],
                          scenario=None, strict_fidelity=False)
    provider = SimpleNamespace(id="anthropic", route="anthropic")
    return CellSetup(job=job, settings=Settings(), manifest=SimpleNamespace(proxy_alias=lambda t, p: "m", api_model=lambda t, p: "claude-sonnet-4-5"),
                     feature=None, provider=provider, check=Passing(), env=env, proxy=proxy, claude=tmp_path,
                     real=False, limiter=SimpleNamespace(acquire=lambda *a, **k: None))


def test_a_running_gateway_leaves_the_outcome_alone(tmp_path):
    proxy = _gateway(tmp_path, alive=True)
    try:
        assert crash_report(proxy) is None
        assert run_tier(_setup(tmp_path, proxy), "haiku").status == Status.PASS
    finally:
        proxy.handle.stop()


def test_a_dead_gateway_makes_the_tier_an_error_with_its_log_tail(tmp_path):
    outcome = run_tier(_setup(tmp_path, _gateway(tmp_path, alive=False)), "haiku")
    assert outcome.status == Status.ERROR and outcome.cause == "infrastructure", outcome
    assert outcome.error.startswith("gateway crashed:"), outcome.error
    assert outcome.error.rstrip().endswith("killed here"), outcome.error
