"""The local stack of `ccmatrix run`: what died, said in one line, and nothing it started outlives stop()."""
import os
import signal
import subprocess
import time
from pathlib import Path

from ccmatrix.local_stack import LocalStack
from tests.proc import running


def _start(stack: LocalStack, name: str, tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    """A stand-in with a child in its process group, like a celery worker and its pool."""
    marker = tmp_path / f"{name}.child"
    process = subprocess.Popen(["sh", "-c", f"sleep 300 & echo $! > {marker}; wait"], start_new_session=True)
    stack.processes.append((name, process))
    for _ in range(100):
        if marker.exists() and marker.read_text().strip():
            break
        time.sleep(0.02)
    return process, marker


def test_dead_names_the_broker_first_and_how_it_died(tmp_path):
    stack = LocalStack(tmp_path, tmp_path)
    try:
        broker, _ = _start(stack, "redis", tmp_path)
        worker, _ = _start(stack, "ccmatrix-local", tmp_path)
        assert stack.dead() is None and stack.broker_started and not stack.broker_dead()
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(5)
        assert stack.dead() == f"the local worker (celery, pid {worker.pid}) was killed by SIGKILL"
        os.kill(broker.pid, signal.SIGTERM)
        broker.wait(5)
        assert stack.dead() == f"the local broker (redis-server, pid {broker.pid}) was killed by SIGTERM"
        assert stack.broker_dead()
    finally:
        stack.stop()


def test_stop_leaves_nothing_of_a_dead_worker_behind(tmp_path):
    stack = LocalStack(tmp_path, tmp_path)
    worker, marker = _start(stack, "ccmatrix-local", tmp_path)
    child = int(marker.read_text())
    os.kill(worker.pid, signal.SIGKILL)  # its pool process (here: `sleep`) is orphaned, still in its group
    worker.wait(5)
    assert running(child)
    started = time.monotonic()
    stack.stop()
    for _ in range(100):
        if not running(child):
            break
        time.sleep(0.02)
    assert not running(child)
    assert time.monotonic() - started < 10
