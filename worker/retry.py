"""Retrying a tier whose outcome is a transient infrastructure error (429, 5xx, 529, timeout), with backoff.

A `fail` is never retried: the gateway was wrong, and asking again would only hide it.
"""
from __future__ import annotations

import time
from typing import Callable

from ccmatrix.outcomes import Status, TierResult


def is_transient(outcome: TierResult) -> bool:
    """An `error` the classifier marked retryable (its evidence says so)."""
    return outcome.status == Status.ERROR and bool(outcome.evidence and outcome.evidence.extra.get("retryable"))


def backoff_s(attempt: int, base_s: float, max_wait_s: float) -> float:
    """The wait after attempt `attempt` (1-based): base, 2·base, 4·base, ... capped at `max_wait_s`."""
    return min(max_wait_s, base_s * 2 ** (attempt - 1))


def retry_transient(run: Callable[[int], TierResult], retries: int, base_s: float, max_wait_s: float,
                    sleep: Callable[[float], None] = time.sleep) -> TierResult:
    """Call `run(attempt)` (attempt = 1, 2, ...) until its outcome is not transient or `retries` retries are spent.
    The last outcome is returned; when it took more than one attempt its evidence says how many."""
    attempt = 0
    while True:
        attempt += 1
        outcome = run(attempt)
        if not is_transient(outcome) or attempt > retries:
            break
        sleep(backoff_s(attempt, base_s, max_wait_s))
    if attempt > 1 and outcome.evidence is not None:
        outcome.evidence.extra["attempts"] = attempt
    return outcome
