"""`ccmatrix` and `celery -A producer enqueue`: one CLI framework, one definition of the run options.

Parsing, help, refusals and exit codes through click's CliRunner; the local stack, the broker and the tools are
replaced by fakes (the real ones: tests/integration/test_local_run.py and test_enqueue_cli.py).
"""
from __future__ import annotations

import importlib
import json
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from click.testing import CliRunner

from ccmatrix import options
from ccmatrix.cli import cli, main
from ccmatrix.manifest import DEFAULT_MANIFEST
from producer.enqueue import enqueue

ROOT = Path(__file__).resolve().parents[3]
SHARED = ["features", "providers", "tiers", "gateways", "litellm_version", "claude_code_version", "tier_models", "offline",
          "manifest_path",
          "gateway_profile", "strict_fidelity", "faults", "fail_on_regression", "timeout"]
FEATURE = "basic_messaging_non_streaming"


def _params(command) -> dict:
    return {param.name: param for param in command.params if param.name != "help"}


def _same(a, b) -> bool:
    return a.to_info_dict() == b.to_info_dict() and a.callback is b.callback and type(a) is type(b)


def _manifest_data() -> dict:
    return yaml.safe_load(DEFAULT_MANIFEST.read_text())


def _bad_manifest(tmp_path) -> Path:
    data = _manifest_data()
    data["features"][0]["check"] = "no_such_check"
    bad = tmp_path / "manifest.yaml"
    bad.write_text(yaml.safe_dump(data))
    return bad


def _invoke(command, args, **kw):
    return CliRunner().invoke(command, args, **kw)


# --- one definition ------------------------------------------------------------------------------------------------


def test_run_and_enqueue_share_every_run_option_identically():
    run, queued = _params(cli.commands["run"]), _params(enqueue)
    assert set(run) - set(SHARED) == {"concurrency", "workers", "bisect_after"}  # what only a local run has
    assert set(queued) - set(SHARED) == {"wait"}  # what only enqueue has
    for name in SHARED:
        assert _same(run[name], queued[name]), name
    # and in the same order, so the two helps read alike
    assert [n for n in run if n in SHARED] == [n for n in queued if n in SHARED] == SHARED


def test_cell_and_provision_take_the_same_definitions():
    run = _params(cli.commands["run"])
    for command, expected in (("cell", {"tiers", "litellm_version", "claude_code_version", "tier_models",
                                        "manifest_path", "gateway_profile", "strict_fidelity", "faults"}),
                              ("provision", {"manifest_path", "litellm_version", "claude_code_version"}),
                              ("gateway-config", {"litellm_version", "gateway_profile", "manifest_path"})):
        params = _params(cli.commands[command])
        assert set(params) - {"feature", "provider", "provider_id"} == expected, command
        for name in expected:
            assert _same(params[name], run[name]), (command, name)


def test_every_documented_subcommand_is_there():
    assert set(cli.commands) == {"run", "cell", "emulator", "provision", "resolve", "history", "diff", "publish",
                                 "gateway-config", "bisect", "corpus", "bisect-regressions", "compare-gateways"}
    readme = (ROOT / "README.md").read_text()
    for line in ("ccmatrix emulator --port 8080", "ccmatrix cell tool_use bedrock_converse --tiers sonnet",
                 "ccmatrix provision", "ccmatrix resolve", "ccmatrix history", "ccmatrix diff RUN_A RUN_B",
                 "ccmatrix gateway-config --provider vertex_ai --gateway-profile recommended"):
        assert line in readme  # the README still documents what is tested below
    for argv in (["emulator", "--port", "8080"], ["cell", "tool_use", "bedrock_converse", "--tiers", "sonnet"],
                 ["provision"], ["resolve", "--offline"], ["history"], ["diff", "RUN_A", "RUN_B"],
                 ["gateway-config", "--provider", "vertex_ai", "--gateway-profile", "recommended"],
                 ["run", "--providers", "a,b", "--features", "x", "--tiers", "haiku,sonnet", "--concurrency", "2"]):
        command = cli.commands[argv[0]]
        command.make_context(argv[0], argv[1:])  # parses, no usage error


def test_help_names_no_provider_and_lists_the_options():
    providers = [p["id"] for p in _manifest_data()["providers"]]
    assert providers
    texts = {"ccmatrix": _invoke(cli, ["--help"]).output}
    for name in cli.commands:
        texts[name] = _invoke(cli, [name, "--help"]).output
    texts["enqueue"] = _invoke(enqueue, ["--help"]).output
    for name, text in texts.items():
        assert "Usage:" in text, name
        for provider in providers:
            assert provider not in text, (name, provider)
    for option in ("--features", "--providers", "--tiers", "--litellm-version", "--claude-code-version", "--manifest",
                   "--strict-fidelity", "--emulator-fault", "--fail-on-regression", "--timeout", "--gateway-profile",
                   "--gateway"):
        assert option in texts["run"] and option in texts["enqueue"]
    assert "--wait" in texts["enqueue"] and "--concurrency" in texts["run"]
    assert _invoke(cli, ["run", "-h"]).output == texts["run"]  # -h as well as --help


def test_python_dash_m_and_the_exit_code():
    done = subprocess.run([sys.executable, "-m", "ccmatrix.cli", "diff", "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and "RUN_A RUN_B" in done.stdout
    assert main(["no-such-command"]) == 2
    assert main(["--help"]) == 0


# --- refusals: one line, exit 2, nothing started or enqueued ----------------------------------------------------------


@pytest.fixture
def nothing_may_start(monkeypatch):
    """Anything past planning is a failure: provisioning, the local stack, submitting."""

    def forbidden(*_, **__):
        raise AssertionError("started something after a refusal")

    monkeypatch.setattr("ccmatrix.provision.ensure_claude", forbidden)
    monkeypatch.setattr("ccmatrix.provision.ensure_litellm", forbidden)
    monkeypatch.setattr("ccmatrix.local_stack.LocalStack", forbidden)
    monkeypatch.setattr("producer.submit.submit", forbidden)
    monkeypatch.setattr("worker.cell.run_cell", forbidden)


class _UntouchableApp:
    def __getattr__(self, name):
        raise AssertionError(f"the Celery app was used ({name}) after a refusal")


def _untouchable():
    return SimpleNamespace(app=_UntouchableApp())


def _one_line_refusal(result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("refused: "), result.stderr
    assert result.stdout == ""
    return lines[0]


def test_a_bad_manifest_is_refused_in_one_line(tmp_path, nothing_may_start):
    bad = str(_bad_manifest(tmp_path))
    for command, args, kw in ((cli, ["run", "--manifest", bad], {}),
                              (enqueue, ["--manifest", bad, "--wait"], {"obj": _untouchable()}),
                              (cli, ["cell", FEATURE, "azure", "--manifest", bad], {}),
                              (cli, ["provision", "--manifest", bad], {})):
        line = _one_line_refusal(_invoke(command, args, **kw))
        assert "features[0].check" in line and "no_such_check" in line, line


def test_a_missing_manifest_is_refused_in_one_line(tmp_path, nothing_may_start):
    line = _one_line_refusal(_invoke(cli, ["run", "--manifest", str(tmp_path / "nope.yaml")]))
    assert "cannot read manifest" in line


def test_unknown_names_are_refused_with_the_manifests_list(nothing_may_start):
    features = [f["id"] for f in _manifest_data()["features"]]
    for command, args, kw in ((cli, ["run", "--features", f"{FEATURE},nope"], {}),
                              (enqueue, ["--features", "nope"], {"obj": _untouchable()}),
                              (cli, ["cell", "nope", "azure"], {})):
        line = _one_line_refusal(_invoke(command, args, **kw))
        assert "unknown feature(s) ['nope']" in line and str(features) in line, line
    line = _one_line_refusal(_invoke(cli, ["run", "--tiers", "huge"]))
    assert "unknown tier(s) ['huge']" in line
    line = _one_line_refusal(_invoke(cli, ["run", "--litellm-version", "not a version"]))
    assert "litellm_version" in line


def test_an_unknown_gateway_profile_is_refused_before_anything_is_enqueued(nothing_may_start, monkeypatch):
    for command, args, kw in ((cli, ["run", "--gateway-profile", "nope"], {}),
                              (enqueue, ["--gateway-profile", "nope", "--wait"], {"obj": _untouchable()}),
                              (cli, ["cell", FEATURE, "azure", "--gateway-profile", "nope"], {}),
                              (cli, ["gateway-config", "--provider", "azure", "--gateway-profile", "nope"], {})):
        line = _one_line_refusal(_invoke(command, args, **kw))
        assert line == "refused: unknown gateway profile 'nope'; known: defaults, recommended", line
    # the setting's value is held to the same list
    from ccmatrix.settings import get_settings

    monkeypatch.setenv("CCMATRIX_GATEWAY_PROFILE", "nope")
    get_settings.cache_clear()
    try:
        assert "unknown gateway profile 'nope'" in _one_line_refusal(_invoke(cli, ["run"]))
    finally:
        get_settings.cache_clear()


def test_a_bad_fault_is_a_usage_error(nothing_may_start):
    for command, kw in ((cli, {}), (enqueue, {"obj": _untouchable()})):
        args = ["run"] if command is cli else []
        for fault, why in (("{bad", "is not JSON"), ("[1]", "is not a JSON object")):
            result = _invoke(command, [*args, "--emulator-fault", fault], **kw)
            assert result.exit_code == 2 and "--emulator-fault" in result.stderr and why in result.stderr


def test_lists_are_comma_separated_or_repeated(monkeypatch):
    seen = []

    def plan_run(run_options, manifest_path=None):
        seen.append((run_options, manifest_path))
        raise ValueError("stop here")

    monkeypatch.setattr("producer.plan.plan_run", plan_run)
    args = ["--features", "a, b", "--features", "c", "--providers", "p", "--tiers", "haiku,,sonnet", "--manifest",
            "m.yaml", "--strict-fidelity", "--emulator-fault", '{"status": 500}', "--emulator-fault", '{"status": 429}',
            "--gateway-profile", "recommended"]
    assert _invoke(cli, ["run", *args]).exit_code == 2
    assert _invoke(enqueue, args, obj=_untouchable()).exit_code == 2
    assert _invoke(cli, ["run"]).exit_code == 2
    (first, path_1), (second, path_2), (empty, path_3) = seen
    assert first == second and path_1 == path_2 == "m.yaml" and path_3 is None
    assert first.features == ["a", "b", "c"] and first.providers == ["p"] and first.tiers == ["haiku", "sonnet"]
    assert first.strict_fidelity is True and first.faults == [{"status": 500}, {"status": 429}]
    assert first.gateway_profile == "recommended"
    assert empty.features is empty.providers is empty.tiers is None and empty.faults == []
    assert empty.gateway_profile is None  # planning takes CCMATRIX_GATEWAY_PROFILE


# --- the run path, with a fake local stack ---------------------------------------------------------------------------


class FakeStack:
    instances: list["FakeStack"] = []
    death: str | None = None

    def __init__(self, cache_dir, log_dir):
        self.log_dir = log_dir
        self.broker_started = False
        self.stopped = False
        self.worker = None
        self.workers: list[tuple[str, int]] = []
        FakeStack.instances.append(self)

    def start_redis(self):
        raise AssertionError("a broker is configured")

    def start_worker(self, env, concurrency, name="ccmatrix-local"):
        self.worker = concurrency
        self.workers.append((name, concurrency))

    def dead(self):
        return FakeStack.death

    def stop(self):
        self.stopped = True


@pytest.fixture
def fake_stack(monkeypatch, tmp_path):
    from ccmatrix.settings import get_settings

    monkeypatch.setenv("CCMATRIX_BROKER_URL", "redis://user:secret@127.0.0.1:9/0")
    monkeypatch.setenv("CCMATRIX_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("CCMATRIX_OUT_DIR", str(tmp_path / "out"))
    get_settings.cache_clear()
    handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    FakeStack.instances, FakeStack.death = [], None
    monkeypatch.setattr("ccmatrix.provision.ensure_claude", lambda *_: None)
    monkeypatch.setattr("ccmatrix.provision.ensure_litellm", lambda *_: None)
    monkeypatch.setattr("ccmatrix.local_stack.LocalStack", FakeStack)
    monkeypatch.setattr(importlib.import_module("ccmatrix.celery_app"), "make_app",
                        lambda: SimpleNamespace(conf=SimpleNamespace()))
    monkeypatch.setattr("producer.submit.submit", lambda plan, app: SimpleNamespace(id="r"))
    yield SimpleNamespace(summary=lambda s: monkeypatch.setattr("producer.submit.wait", s), log_dir=tmp_path / "cache"
                          / "logs")
    signal.signal(signal.SIGINT, handlers[0])
    signal.signal(signal.SIGTERM, handlers[1])
    get_settings.cache_clear()


def _waits_for(summary):
    def wait(plan, app, result, on_progress=None, timeout=None, alive=None):
        on_progress(len(plan.jobs), len(plan.jobs))
        return {"run_id": plan.run_id, "report": {"big": True}, **summary}

    return wait


RUN = ["run", "--features", FEATURE, "--tiers", "haiku", "--concurrency", "3"]


def test_run_prints_the_summary_and_exits_4_only_when_asked(fake_stack):
    fake_stack.summary(_waits_for({"published": True, "regression": "regressed", "counts": {"pass": 4}}))
    result = _invoke(cli, RUN)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["published"] is True and summary["regression"] == "regressed" and "report" not in summary
    assert FakeStack.instances[-1].stopped and FakeStack.instances[-1].worker == 3
    assert _invoke(cli, [*RUN, "--fail-on-regression"]).exit_code == 4
    fake_stack.summary(_waits_for({"published": True, "regression": "clean"}))
    assert _invoke(cli, [*RUN, "--fail-on-regression"]).exit_code == 0


def test_run_that_publishes_nothing_ends_with_one_line(fake_stack):
    fake_stack.summary(_waits_for({"published": False, "reason": "gave up\nwaiting after 5 s"}))
    result = _invoke(cli, [*RUN, "--timeout", "5", "--fail-on-regression"])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == "ccmatrix run: gave up waiting after 5 s"
    assert json.loads(result.stdout)["published"] is False


def test_a_dead_broker_is_one_line_exit_1_no_traceback(fake_stack):
    def wait(*_, **__):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:9. Connection refused.")

    fake_stack.summary(wait)
    result = _invoke(cli, RUN)
    assert result.exit_code == 1 and "Traceback" not in result.output
    last = result.stderr.splitlines()[-1]
    assert last == (f"ccmatrix run: the broker at redis://user:***@127.0.0.1:9/0 could not be reached "
                    f"(ConnectionError: Error 111 connecting to 127.0.0.1:9. Connection refused.) mid-run: nothing "
                    f"was published; logs in {fake_stack.log_dir}")
    assert "secret" not in result.output
    assert json.loads(result.stdout)["reason"] == last.removeprefix("ccmatrix run: ")
    assert "ConnectionError" in (fake_stack.log_dir / "ccmatrix-run.log").read_text()  # the traceback went there
    FakeStack.death = "the local worker"  # a dead stack is named rather than the broker's error
    result = _invoke(cli, RUN)
    assert result.stderr.splitlines()[-1] == (f"ccmatrix run: the local worker mid-run: nothing was published; logs "
                                              f"in {fake_stack.log_dir}")


def test_ctrl_c_stops_the_stack_and_exits_130(fake_stack):
    def wait(*_, **__):
        raise KeyboardInterrupt

    fake_stack.summary(wait)
    result = _invoke(cli, RUN)
    assert result.exit_code == 130 and "interrupted: stopping what was started" in result.stderr
    assert FakeStack.instances[-1].stopped and result.stdout == ""


# --- enqueue's exit codes ----------------------------------------------------------------------------------------------


def test_enqueue_submits_and_maps_the_summary_to_its_exit_code(monkeypatch):
    submitted = []
    monkeypatch.setattr("producer.submit.submit", lambda plan, app: submitted.append(plan) or SimpleNamespace(id="r"))
    obj = SimpleNamespace(app=object())
    args = ["--features", FEATURE, "--tiers", "haiku"]
    result = _invoke(enqueue, args, obj=obj)
    assert result.exit_code == 0 and result.stdout.startswith(f"enqueued run {submitted[-1].run_id}: ")
    for summary, flags, code in (({"published": True, "regression": "regressed"}, ["--fail-on-regression"], 4),
                                 ({"published": True, "regression": "regressed"}, [], 0),
                                 ({"published": False, "reason": "x"}, ["--fail-on-regression"], 1)):
        monkeypatch.setattr("producer.submit.wait", _waits_for(summary))
        result = _invoke(enqueue, [*args, "--wait", *flags], obj=obj)
        assert result.exit_code == code, (summary, flags, result.output)
        assert json.loads(result.stdout[result.stdout.index("{"):])["published"] is summary["published"]
