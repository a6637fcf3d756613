"""Retrying a tier: transient errors only, with capped exponential backoff, attempts recorded."""
import pytest
from celery.exceptions import SoftTimeLimitExceeded

from ccmatrix.outcomes import Evidence, Status, TierResult
from worker.retry import backoff_s, is_transient, retry_transient


def transient() -> TierResult:
    return TierResult.errored("upstream 529", evidence=Evidence(extra={"retryable": True}))


def run_sequence(outcomes):
    calls = []

    def run(attempt):
        calls.append(attempt)
        return outcomes[len(calls) - 1]()

    return run, calls


def test_a_transient_error_is_retried_until_it_passes_and_the_attempts_are_recorded():
    run, calls = run_sequence([transient, transient, lambda: TierResult.passed(evidence=Evidence())])
    waits = []
    outcome = retry_transient(run, retries=2, base_s=1.0, max_wait_s=10.0, sleep=waits.append)
    assert outcome.status == Status.PASS and outcome.evidence.extra["attempts"] == 3
    assert calls == [1, 2, 3] and waits == [1.0, 2.0]


def test_retries_run_out_and_the_last_error_stands():
    run, calls = run_sequence([transient] * 5)
    outcome = retry_transient(run, retries=2, base_s=0.5, max_wait_s=10.0, sleep=lambda s: None)
    assert calls == [1, 2, 3] and is_transient(outcome) and outcome.evidence.extra["attempts"] == 3


def test_a_fail_or_a_plain_error_is_never_retried():
    for first in (lambda: TierResult.failed("gateway wrong", evidence=Evidence(extra={"retryable": True})),
                  lambda: TierResult.errored("proxy did not boot", evidence=Evidence())):
        run, calls = run_sequence([first, transient])
        outcome = retry_transient(run, retries=3, base_s=1.0, max_wait_s=1.0, sleep=lambda s: None)
        assert calls == [1] and "attempts" not in outcome.evidence.extra


def test_backoff_doubles_up_to_its_cap():
    assert [backoff_s(a, 2.0, 10.0) for a in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 10.0]


def test_the_time_limit_goes_through():
    def run(attempt):
        raise SoftTimeLimitExceeded()

    with pytest.raises(SoftTimeLimitExceeded):
        retry_transient(run, retries=2, base_s=1.0, max_wait_s=1.0, sleep=lambda s: None)
