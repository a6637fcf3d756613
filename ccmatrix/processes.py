"""The processes we start: waiting until one is ready, and stopping one with everything it started.

Every process is started in a session (and so a process group) of its own (`start_new_session=True`), so stopping
it means signalling its group: the children it started (a Celery pool, a proxy's workers, a CLI's tool runs) go
with it, also when the leader itself is already gone.
"""
from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Iterable
from typing import TypeVar

import tenacity

T = TypeVar("T")

# How long a group gets to die after SIGKILL before we stop waiting to reap its leader.
_REAP_S = 5.0


class ProcessExited(RuntimeError):
    """What a readiness check raises when the process it waits for is gone: it ends a `wait_until` at once."""


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    """Send `sig` to the process group `process` leads, even when the leader has exited (its children may not
    have); a group that no longer exists is not an error."""
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop_groups(processes: Iterable[tuple[subprocess.Popen, float]]) -> None:
    """Stop several process groups: SIGTERM to all of them first (they shut down side by side), then one by one,
    in the order given: wait up to its grace period for the leader, SIGKILL whatever is left of the group, reap.
    A group with no grace period (0) gets SIGKILL only."""
    processes = list(processes)
    for process, grace_s in processes:
        if grace_s > 0:
            _signal_group(process, signal.SIGTERM)
    for process, grace_s in processes:
        if grace_s > 0:
            try:
                process.wait(grace_s)
            except subprocess.TimeoutExpired:
                pass
        _signal_group(process, signal.SIGKILL)  # the leader if it did not go, anything left in its group if it did
        try:
            process.wait(_REAP_S)  # reaped: no zombie in a long-lived worker
        except subprocess.TimeoutExpired:
            pass


def stop_group(process: subprocess.Popen | None, grace_s: float = 5.0) -> None:
    """Stop a process and its group: SIGTERM, up to `grace_s` seconds for the leader to exit, SIGKILL for whatever
    is left, reap. Harmless on a process that is already gone (its leftover children are still killed) and on
    None; `grace_s=0` sends SIGKILL at once."""
    if process is not None:
        stop_groups([(process, grace_s)])


def wait_until(predicate: Callable[[], T], *, timeout_s: float, interval_s: float, what: str,
               retry_on: type[BaseException] | tuple[type[BaseException], ...] = ()) -> T:
    """Call `predicate` every `interval_s` seconds until it returns something true, and return that.

    An exception of a `retry_on` type counts as "not yet" (a connection refused while a server boots); any other
    exception ends the wait at once and propagates — the way for a check to say "it died, stop waiting" (e.g.
    `ProcessExited`). After `timeout_s` seconds: a TimeoutError that names `what`.
    """
    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_delay(timeout_s),
        wait=tenacity.wait_fixed(interval_s),
        retry=tenacity.retry_if_exception_type(retry_on) | tenacity.retry_if_not_result(bool),
    )
    try:
        return retrying(predicate)
    except tenacity.RetryError as gave_up:
        last = gave_up.last_attempt
        detail = f" (last: {last.exception()!r})" if last.failed else ""
        raise TimeoutError(f"{what} not ready after {timeout_s:g} s{detail}") from None
