"""`ccmatrix run`, the embedded default: it starts its own Redis and worker, and stops all of it on Ctrl-C."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

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


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_ctrl_c_stops_everything_it_started(tools, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCMATRIX_")}
    env["CCMATRIX_OUT_DIR"] = str(tmp_path / "out")
    run = subprocess.Popen([sys.executable, "-m", "ccmatrix.cli", "run"], cwd=ROOT, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: set[int] = set()
    deadline = time.monotonic() + 180
    while not any("claude" in _cmdline(p) and " -p " in _cmdline(p) for p in seen):
        assert run.poll() is None, run.communicate()
        assert time.monotonic() < deadline, "no CLI run started"
        seen |= _descendants(run.pid)
        time.sleep(0.3)
    seen |= _descendants(run.pid)
    commands = " ".join(_cmdline(p) for p in seen)
    assert "redis-server" in commands, "with no broker configured it starts a Redis of its own"
    assert "celery" in commands and "litellm" in commands and "-m emulator" in commands
    run.send_signal(signal.SIGINT)
    out, err = run.communicate(timeout=120)
    assert run.returncode == 130, err[-2000:]
    assert "interrupted" in err
    time.sleep(1)
    left = [(p, _cmdline(p)) for p in seen if _running(p)]
    assert not left, left
    assert not (tmp_path / "out" / "compatibility-matrix.json").exists(), "an interrupted run publishes nothing"


def test_a_dead_local_worker_ends_the_run_with_a_reason(tools, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCMATRIX_")}
    env["CCMATRIX_OUT_DIR"] = str(tmp_path / "out")
    env["CCMATRIX_CACHE_DIR"] = str(ROOT / ".cache")
    run = subprocess.Popen([sys.executable, "-m", "ccmatrix.cli", "run", "--features", "tool_use"], cwd=ROOT, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    worker = None
    while worker is None:
        assert run.poll() is None and time.monotonic() < deadline
        workers = [p for p in _descendants(run.pid) if "celery" in _cmdline(p) and "worker" in _cmdline(p)]
        # the worker's main process is the one whose parent is `ccmatrix run` itself
        worker = next((p for p in workers if p in {c for c in _descendants(run.pid)} and
                       int(Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[1]) == run.pid), None)
        time.sleep(0.2)
    time.sleep(2)
    os.kill(worker, signal.SIGKILL)
    out, err = run.communicate(timeout=120)
    assert run.returncode == 1, err[-2000:]
    assert "the local worker exited" in out
