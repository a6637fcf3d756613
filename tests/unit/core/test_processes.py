"""ccmatrix.processes: stopping a process group (also one whose leader is gone) and waiting until something is ready."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from ccmatrix.processes import ProcessExited, stop_group, stop_groups, wait_until
from tests.proc import running


def _group_leader(tmp_path: Path, name: str, on_term: str | None = None) -> tuple[subprocess.Popen, int]:
    """A shell leading its own group with a `sleep` child in it (like a celery worker and its pool); `on_term` is
    the shell's SIGTERM trap ("" ignores SIGTERM, in the child too)."""
    marker = tmp_path / f"{name}.child"
    trap = f"trap '{on_term}' TERM; " if on_term is not None else ""
    process = subprocess.Popen(["sh", "-c", f"{trap}sleep 300 & echo $! > {marker}; wait; wait"],
                               start_new_session=True)
    text = wait_until(lambda: marker.exists() and marker.read_text().strip(), timeout_s=10, interval_s=0.02,
                      what=f"{name}'s child")
    return process, int(text)


def test_stop_group_kills_the_group_of_a_leader_that_already_died(tmp_path):
    leader, child = _group_leader(tmp_path, "worker")
    leader.send_signal(signal.SIGKILL)
    leader.wait(5)
    assert running(child)  # orphaned, still in the dead leader's group
    try:
        stop_group(leader, grace_s=1)
        wait_until(lambda: not running(child), timeout_s=5, interval_s=0.02, what="the orphaned child to go")
    finally:
        if running(child):  # the test failed: leave nothing behind
            os.kill(child, signal.SIGKILL)


def test_stop_group_terminates_then_kills_what_ignores_sigterm(tmp_path):
    polite, polite_child = _group_leader(tmp_path, "polite")
    stop_group(polite, grace_s=5)
    assert polite.returncode == -signal.SIGTERM
    stubborn, stubborn_child = _group_leader(tmp_path, "stubborn", on_term="")
    started = time.monotonic()
    stop_group(stubborn, grace_s=0.5)
    assert stubborn.returncode == -signal.SIGKILL  # reaped: no zombie left
    assert time.monotonic() - started < 5
    for pid in (polite_child, stubborn_child):
        wait_until(lambda: not running(pid), timeout_s=5, interval_s=0.02, what=f"child {pid} to go")


def test_stop_group_without_grace_kills_at_once_and_tolerates_nothing_to_stop(tmp_path):
    leader, _ = _group_leader(tmp_path, "cli", on_term="")
    stop_group(leader, grace_s=0)
    assert leader.returncode == -signal.SIGKILL
    stop_group(leader, grace_s=1)  # already stopped and reaped: nothing happens
    stop_group(None)


def test_stop_groups_signals_every_group_before_waiting_for_any(tmp_path):
    slow = [_group_leader(tmp_path, f"slow{i}", on_term="sleep 2; exit 0")[0] for i in range(2)]
    started = time.monotonic()
    stop_groups((process, 10) for process in slow)
    assert time.monotonic() - started < 3.8  # one after the other would take 4 s at least
    assert all(process.returncode is not None for process in slow)


def test_wait_until_returns_what_the_check_found_and_retries_the_listed_errors():
    calls = []

    def check():
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("not yet")
        return len(calls) >= 4 and "ready"

    assert wait_until(check, timeout_s=5, interval_s=0.01, what="service", retry_on=ConnectionError) == "ready"
    assert len(calls) == 4


def test_wait_until_times_out_naming_what_it_waited_for():
    started = time.monotonic()
    with pytest.raises(TimeoutError, match=r"^the emulator not ready after 0\.3 s$"):
        wait_until(lambda: False, timeout_s=0.3, interval_s=0.05, what="the emulator")
    assert 0.3 <= time.monotonic() - started < 2
    with pytest.raises(TimeoutError, match=r"^redis not ready after 0\.2 s \(last: ConnectionError\('refused'\)\)$"):
        wait_until(lambda: (_ for _ in ()).throw(ConnectionError("refused")), timeout_s=0.2, interval_s=0.05,
                   what="redis", retry_on=ConnectionError)


def test_wait_until_stops_at_once_when_the_check_says_it_died():
    started = time.monotonic()
    with pytest.raises(ProcessExited, match="proxy"):
        wait_until(lambda: (_ for _ in ()).throw(ProcessExited("proxy")), timeout_s=30, interval_s=0.05,
                   what="proxy", retry_on=ConnectionError)
    assert time.monotonic() - started < 1
