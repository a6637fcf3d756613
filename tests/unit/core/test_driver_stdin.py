"""A large stdin reaches the CLI whole even when the driver's watch wakes up before it is written: communicate is
resumed with the same input (worker/driver.py _wait)."""
from __future__ import annotations

import subprocess
import sys
import time

from worker.driver import _wait


def test_a_slow_reader_gets_all_of_a_large_stdin_across_watch_wakeups():
    data = "x" * 3_000_000  # far beyond a pipe buffer
    # reads slowly at first, so the first communicate() times out with the input half-written
    reader = "import sys,time; time.sleep(1.5); print(len(sys.stdin.read()))"
    process = subprocess.Popen([sys.executable, "-c", reader], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    looks = []
    stdout, _, timed_out, stopped = _wait(process, data, time.monotonic() + 30, lambda: looks.append(1), 0.2)
    assert not timed_out and stopped is None and len(looks) >= 2
    assert stdout.strip() == str(len(data))
