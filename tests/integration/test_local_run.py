"""`ccmatrix run`, the embedded default: it starts its own Redis and worker, and stops all of it on Ctrl-C."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ccmatrix.processes import wait_until
from tests.proc import running

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def _descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError):
                continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _follow_until_a_cli_runs(run: subprocess.Popen, timeout_s: float) -> set[int]:
    """Every pid seen below `run` until a CLI run is among them."""
    seen: set[int] = set()

    def a_cli_runs() -> bool:
        assert run.poll() is None, run.communicate()
        seen.update(_descendants(run.pid))
        return any("claude" in _cmdline(p) and " -p " in _cmdline(p) for p in seen)

    wait_until(a_cli_runs, timeout_s=timeout_s, interval_s=0.2, what="a CLI run")
    return seen | _descendants(run.pid)


def test_ctrl_c_stops_everything_it_started(tools, tmp_path):
    env = {k: v for k, v in os.environ.items()  # the session's pinned manifest stays (tests/conftest.py)
           if not k.startswith("CCMATRIX_") or k == "CCMATRIX_MANIFEST_PATH"}
    env["CCMATRIX_OUT_DIR"] = str(tmp_path / "out")
    run = subprocess.Popen([sys.executable, "-m", "ccmatrix.cli", "run"], cwd=ROOT, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = _follow_until_a_cli_runs(run, timeout_s=180)
    commands = " ".join(_cmdline(p) for p in seen)
    assert "redis-server" in commands, "with no broker configured it starts a Redis of its own"
    assert "celery" in commands and "litellm" in commands and "-m emulator" in commands
    run.send_signal(signal.SIGINT)
    out, err = run.communicate(timeout=120)
    assert run.returncode == 130, err[-2000:]
    assert "interrupted" in err
    time.sleep(1)
    left = [(p, _cmdline(p)) for p in seen if running(p)]
    assert not left, left
    assert not (tmp_path / "out" / "compatibility-matrix.json").exists(), "an interrupted run publishes nothing"


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError):
        return None


def _run_until_a_cli_runs(tmp_path):
    """`ccmatrix run` on two cells, followed until a CLI run is under way; (process, every pid seen below it)."""
    env = {k: v for k, v in os.environ.items()  # the session's pinned manifest stays (tests/conftest.py)
           if not k.startswith("CCMATRIX_") or k == "CCMATRIX_MANIFEST_PATH"}
    env["CCMATRIX_OUT_DIR"] = str(tmp_path / "out")
    env["CCMATRIX_CACHE_DIR"] = str(ROOT / ".cache")
    run = subprocess.Popen([sys.executable, "-m", "ccmatrix.cli", "run", "--features", "tool_use", "--providers",
                            "anthropic,azure", "--tiers", "haiku,sonnet"], cwd=ROOT, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return run, _follow_until_a_cli_runs(run, timeout_s=120)


def _ends_with_one_line(run, seen, tmp_path, what: str) -> None:
    """Exit 1 within seconds, the last stderr line says what died, that nothing was published and where the logs
    are (and no other line says it), no traceback anywhere, nothing left running, nothing published."""
    started = time.monotonic()
    out, err = run.communicate(timeout=90)
    took = time.monotonic() - started
    assert run.returncode == 1, err[-3000:]
    assert took < 15, f"{took:.1f} s to end after the death"  # not a broker client's retries, not a 30 s shutdown
    assert "Traceback" not in out + err, err[-3000:]
    last = err.rstrip("\n").splitlines()[-1]
    assert last.startswith(f"ccmatrix run: {what} (") and "mid-run: nothing was published; logs in " in last, err
    assert str(ROOT / ".cache" / "logs") in last
    assert sum("nothing was published" in line for line in err.splitlines()) == 1, err
    assert json.loads(out)["reason"] == last.removeprefix("ccmatrix run: ")
    time.sleep(1)
    left = [(p, _cmdline(p)) for p in seen if running(p)]
    assert not left, left
    assert not (tmp_path / "out" / "compatibility-matrix.json").exists()


def test_a_dead_local_broker_ends_the_run_with_one_line(tools, tmp_path):
    run, seen = _run_until_a_cli_runs(tmp_path)
    broker = next(p for p in seen if "redis-server" in _cmdline(p) and _parent(p) == run.pid)
    os.kill(broker, signal.SIGKILL)
    _ends_with_one_line(run, seen, tmp_path, "the local broker")


def test_a_dead_local_worker_ends_the_run_with_one_line(tools, tmp_path):
    run, seen = _run_until_a_cli_runs(tmp_path)
    # the worker's main process is the celery whose parent is `ccmatrix run` itself
    worker = next(p for p in seen if "celery" in _cmdline(p) and _parent(p) == run.pid)
    os.kill(worker, signal.SIGKILL)
    _ends_with_one_line(run, seen, tmp_path, "the local worker")
