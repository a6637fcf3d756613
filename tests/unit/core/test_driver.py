"""The CLI driver with a stand-in binary: env allowlist, fresh HOME/cwd, stdin, and the process-group timeout."""
import json
import os
import stat
import time
from pathlib import Path

import pytest

from tests.proc import running
from worker.driver import run_cli
from worker.sandbox import Sandbox

FAKE = """#!/bin/sh
# Print the environment and cwd as a stream-json result line, like the CLI would print its result.
if [ "$FAKE_MODE" = "" ] && [ -n "$SLEEP_CHILD" ]; then :; fi
case "$(cat "$HOME/../mode" 2>/dev/null)" in
  sleep) (sleep 300 & echo $! > "$MARKER_DIR/child.pid"; wait) ;;
esac
python3 - "$@" <<'PY'
import json, os, sys
stdin = sys.stdin.read()
print("not json at all")
print(json.dumps({"type": "result", "subtype": "success", "is_error": False,
                  "result": json.dumps({"env": dict(os.environ), "cwd": os.getcwd(), "argv": sys.argv[1:], "stdin": stdin})}))
PY
"""


@pytest.fixture()
def fake_claude(tmp_path):
    path = tmp_path / "claude"
    path.write_text(FAKE)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def _payload(run):
    return json.loads(run.result.result)


def test_env_is_an_allowlist_and_never_carries_worker_secrets(fake_claude, tmp_path, monkeypatch):
    monkeypatch.setenv("CCMATRIX_AWS_SECRET_ACCESS_KEY", "super-secret-value")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "another-secret")
    run = run_cli(fake_claude, prompt="hi", model="claude-haiku-4-5-x", base_url="http://127.0.0.1:1",
                  api_key="sk-proxy", sandbox=Sandbox(tmp_path / "sbx", isolated=False), timeout_s=30)
    payload = _payload(run)
    env = payload["env"]
    assert "super-secret-value" not in json.dumps(env) and "another-secret" not in json.dumps(env)
    assert env["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:1" and env["ANTHROPIC_API_KEY"] == "sk-proxy"
    assert env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] == "1"
    assert Path(env["HOME"]).name == "home" and payload["cwd"].endswith("project")
    assert payload["stdin"] == ""  # /dev/null
    assert payload["argv"][-2:] == ["--", "hi"] and "stream-json" in payload["argv"]
    assert not Path(env["HOME"]).exists()  # the fresh HOME is removed afterwards
    assert [n.text for n in run.transcript.noise()] == ["not json at all"]


def test_a_check_cannot_smuggle_arbitrary_env(fake_claude, tmp_path):
    with pytest.raises(ValueError, match="not allowed"):
        run_cli(fake_claude, prompt="hi", model="m", base_url="u", api_key="k",
                sandbox=Sandbox(tmp_path, isolated=False), env={"AWS_SECRET_ACCESS_KEY": "x"})


def test_timeout_kills_the_whole_process_group(tmp_path):
    marker = tmp_path / "markers"
    marker.mkdir()
    script = tmp_path / "claude"
    script.write_text(f"#!/bin/sh\nsleep 300 &\necho $! > {marker}/child.pid\nwait\n")
    script.chmod(0o755)
    started = time.monotonic()
    run = run_cli(script, prompt="hi", model="m", base_url="u", api_key="k",
                  sandbox=Sandbox(tmp_path / "s", isolated=False), timeout_s=1.5)
    assert run.timed_out and run.exit_code is None
    assert time.monotonic() - started < 20
    child = int((marker / "child.pid").read_text())
    time.sleep(0.2)
    assert not running(child)


def test_children_die_with_the_worker_process(tmp_path):
    """A worker killed with SIGKILL leaves no proxy, emulator or CLI behind (PR_SET_PDEATHSIG)."""
    import signal
    import subprocess
    import sys

    parent = subprocess.Popen([sys.executable, "-c", (
        "import subprocess, time\n"
        "from worker.sandbox import die_with_parent\n"
        "child = subprocess.Popen(['sleep', '300'], preexec_fn=die_with_parent)\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(300)\n")], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[3])
    child = int(parent.stdout.readline())
    assert running(child)
    parent.send_signal(signal.SIGKILL)
    parent.wait(10)
    for _ in range(100):
        if not running(child):
            break
        time.sleep(0.05)
    assert not running(child)


def test_a_soft_time_limit_interrupts_the_cli_kills_its_group_and_reaps_it(tmp_path, monkeypatch):
    """Celery's soft limit raises SoftTimeLimitExceeded (from a signal handler) while the driver waits on the CLI:
    it leaves at once, the CLI's process group is killed, the CLI reaped (no zombie) and its HOME removed."""
    import os
    import signal
    import tempfile

    from celery.exceptions import SoftTimeLimitExceeded

    marker = tmp_path / "markers"
    marker.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    script = tmp_path / "claude"
    script.write_text(f"#!/bin/sh\necho $$ > {marker}/cli.pid\necho \"$HOME\" > {marker}/home\n"
                      f"sleep 300 &\necho $! > {marker}/child.pid\nwait\n")
    script.chmod(0o755)

    def soft_limit(*_):
        raise SoftTimeLimitExceeded()

    previous = signal.signal(signal.SIGALRM, soft_limit)
    signal.setitimer(signal.ITIMER_REAL, 1.0)
    started = time.monotonic()
    try:
        with pytest.raises(SoftTimeLimitExceeded):
            run_cli(script, prompt="hi", model="m", base_url="u", api_key="k",
                    sandbox=Sandbox(tmp_path / "s", isolated=False), timeout_s=120)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - started < 5
    cli, child = int((marker / "cli.pid").read_text()), int((marker / "child.pid").read_text())
    with pytest.raises(ChildProcessError):
        os.waitpid(cli, os.WNOHANG)  # already reaped by the driver
    for _ in range(50):
        if not running(child):
            break
        time.sleep(0.05)
    assert not running(child)
    assert not Path((marker / "home").read_text().strip()).parent.exists()
