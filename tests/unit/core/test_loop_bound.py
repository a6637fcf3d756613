"""The loop bound: a tier whose CLI makes more model calls than its check's bound is stopped while it runs and
reported with the loop in its evidence — `error`/`emulator_gap` when the emulator tagged its answers as repeats it
could not progress on, else `fail`/`gateway` — never left to spin until the CLI's timeout."""
from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from ccmatrix.outcomes import Status
from tests.proc import running
from worker.check import DEFAULT_MAX_MODEL_CALLS, MESSAGE_OPERATIONS, Check, CheckContext, CliCheck, ModelCallLoop
from worker.driver import run_cli
from worker.sandbox import Sandbox

OPERATION = sorted(MESSAGE_OPERATIONS)[0]


def spinning_cli(tmp_path: Path) -> tuple[Path, Path]:
    """A stand-in CLI that never ends on its own (as one stuck in a model-call loop), with a child in its group."""
    marker = tmp_path / "markers"
    marker.mkdir()
    script = tmp_path / "claude"
    script.write_text(f"#!/bin/sh\necho '{{\"type\":\"system\",\"subtype\":\"init\"}}'\n"
                      f"sleep 300 &\necho $! > {marker}/child.pid\nwait\n")
    script.chmod(0o755)
    return script, marker


class UpstreamStream:
    """A fake emulator capture that grows by one model call each time it is read: a loop in progress."""

    def __init__(self, repeat: str | None = None):
        self.calls: list[dict] = []
        self.repeat = repeat
        self.reads = 0

    def __call__(self) -> list[dict]:
        self.reads += 1
        n = len(self.calls) + 1
        response = {"content": [{"type": "tool_use", "name": "Bash"}], "stop_reason": "tool_use", "usage": {}}
        if self.repeat:
            response["repeat"] = self.repeat
        self.calls.append({"seq": n, "operation": OPERATION, "method": "POST", "path": f"/v1/messages#{n}",
                           "status": 200, "cause": "ok", "cause_reason": None, "response": response})
        return list(self.calls)


def make_ctx(tmp_path, binary, upstream, bound, emulated=True, client=()):
    settings = SimpleNamespace(cli_timeout_s=20, cli_max_retries=0)
    return CheckContext(feature=None, provider=None, tier="sonnet", model="m", job_id="j", settings=settings,
                        emulated=emulated, claude_binary=binary, proxy_url="http://127.0.0.1:1", proxy_key="k",
                        sandbox=Sandbox(tmp_path / "sbx", isolated=False), upstream_reader=upstream,
                        set_faults=lambda f: None, client_reader=lambda: list(client), max_model_calls=bound,
                        watch_every_s=0.1)


def test_the_driver_stops_the_cli_when_its_watch_says_so(tmp_path):
    script, marker = spinning_cli(tmp_path)
    looks = []

    def watch():
        looks.append(time.monotonic())
        return "model-call loop: 4 calls > bound 3" if len(looks) >= 2 else None

    started = time.monotonic()
    run = run_cli(script, prompt="hi", model="m", base_url="u", api_key="k",
                  sandbox=Sandbox(tmp_path / "s", isolated=False), timeout_s=120, watch=watch, watch_every_s=0.2)
    assert time.monotonic() - started < 10  # not the 120 s timeout
    assert run.stopped == "model-call loop: 4 calls > bound 3" and not run.timed_out
    assert '"init"' in run.stdout  # what it printed before it was stopped is kept
    time.sleep(0.2)
    assert not running(int((marker / "child.pid").read_text()))  # its whole process group is gone


def test_a_loop_over_the_bound_is_stopped_and_fails_with_the_loop_in_the_evidence(tmp_path):
    script, _ = spinning_cli(tmp_path)
    upstream = UpstreamStream()
    c = make_ctx(tmp_path, script, upstream, bound=3)
    started = time.monotonic()
    with pytest.raises(ModelCallLoop) as raised:
        c.run_cli("hi")
    assert time.monotonic() - started < 10  # not the CLI's 20 s timeout
    out = raised.value.outcome
    assert out.status == Status.FAIL and out.cause == "gateway"
    assert out.error.startswith("model-call loop: 4 calls > bound 3")
    loop = out.evidence.extra["model_call_loop"]
    assert loop["bound"] == 3 and loop["calls"] >= 4
    assert len(loop["last_calls"]) == 5 and loop["last_calls"][-1].startswith("POST /v1/messages#")
    assert "repeat" not in loop
    assert not (out.evidence.extra.get("retryable"))  # a loop is never retried
    assert c.cli_runs and c.cli_runs[0].stopped


def test_a_loop_of_emulator_repeats_is_an_emulator_gap(tmp_path):
    script, _ = spinning_cli(tmp_path)
    upstream = UpstreamStream(repeat="the scripted model re-issued tool_use Bash {...}, already answered at messages.1")
    c = make_ctx(tmp_path, script, upstream, bound=2)
    with pytest.raises(ModelCallLoop) as raised:
        c.run_cli("hi")
    out = raised.value.outcome
    assert out.status == Status.ERROR and out.cause == "emulator_gap"
    assert "model-call loop: 3 calls > bound 2" in out.error and "re-issued tool_use Bash" in out.error
    assert out.evidence.extra["model_call_loop"]["repeats"] >= 3


def test_under_the_bound_nothing_is_stopped():
    c = make_ctx(Path("/tmp"), Path("/bin/true"), lambda: [{"operation": OPERATION}] * 12, bound=12)
    assert c.over_bound() is None
    c.max_model_calls = 11
    assert c.over_bound() == "model-call loop: 12 calls > bound 11"


def test_an_unreadable_capture_is_no_verdict():
    def broken():
        raise ConnectionError("emulator busy")

    assert make_ctx(Path("/tmp"), Path("/bin/true"), broken, bound=1).over_bound() is None


def test_against_a_real_provider_the_recorder_counts_the_clis_model_calls():
    client = [{"method": "POST", "path": "/_job/j/v1/messages"}] * 3 + \
             [{"method": "POST", "path": "/v1/messages/count_tokens"}, {"method": "HEAD", "path": "/"}]
    c = make_ctx(Path("/tmp"), Path("/bin/true"), lambda: [], bound=2, emulated=False, client=client)
    assert c.over_bound() == "model-call loop: 3 calls > bound 2"


def test_every_check_has_a_bound_with_one_default():
    import importlib
    import pkgutil

    import worker.checks as checks

    assert Check.max_model_calls == CliCheck.max_model_calls == DEFAULT_MAX_MODEL_CALLS == 12
    for info in pkgutil.iter_modules(checks.__path__):
        if info.name.startswith("_"):
            continue
        check = importlib.import_module(f"worker.checks.{info.name}").CHECK
        assert isinstance(check.max_model_calls, int) and 2 <= check.max_model_calls <= 40, info.name


def test_a_tier_stopped_by_its_bound_reports_the_loop_not_a_crash(tmp_path):
    """worker.tier.run_tier returns the loop's outcome (finalized), not "check crashed", and does not retry it."""
    from ccmatrix.settings import Settings
    from providers import registry
    from worker.tier import CellSetup, run_tier

    script, _ = spinning_cli(tmp_path)
    upstream = UpstreamStream()
    seen = {}

    class Looping(CliCheck):
        max_model_calls = 2
        decisive = ("never reached",)

        def run(self, ctx):
            seen["bound"] = ctx.max_model_calls
            ctx.watch_every_s = 0.1
            ctx.run_cli("hi")
            raise AssertionError("run_cli must raise on a loop")

    class Env:
        sandbox = Sandbox(tmp_path / "sbx", isolated=False)
        fidelity = False

        def begin_job(self, *a): pass
        def end_job(self, *a): pass
        def set_faults(self, f): pass
        def client_url(self, url, job_id): return url
        def captures(self, job_id): return upstream()
        def client_captures(self, job_id): return []

    route = registry.ids()[0]
    provider = SimpleNamespace(id=route, route=route)
    manifest = SimpleNamespace(proxy_alias=lambda tier, pid: "m", api_model=lambda tier, pid: "claude-sonnet-4-5",
                               tiers={"sonnet": "claude-sonnet-4-5"})
    job = SimpleNamespace(run_id="r", feature="f", provider=route, faults=[], scenario={}, strict_fidelity=False)
    limiter = SimpleNamespace(acquire=lambda *a, **k: None)
    setup = CellSetup(job=job, settings=Settings(cli_timeout_s=20), manifest=manifest, feature=None,
                      provider=provider, check=Looping(), env=Env(), proxy=SimpleNamespace(url="http://127.0.0.1:1",
                      master_key="sk-x"), claude=script, real=False, limiter=limiter)
    out = run_tier(setup, "sonnet")
    assert seen["bound"] == 2
    assert out.status == Status.FAIL and out.cause == "gateway", out
    assert out.error.startswith("model-call loop: 3 calls > bound 2")
    assert out.evidence.extra["model_call_loop"]["bound"] == 2
