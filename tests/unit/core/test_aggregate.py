import itertools

import pytest

from ccmatrix.outcomes import Status, TierResult, aggregate


def tier(status: Status) -> TierResult:
    text = f"{status.value} happened"
    if status == Status.PASS:
        return TierResult.passed()
    if status == Status.FAIL:
        return TierResult.failed(text)
    if status == Status.ERROR:
        return TierResult.errored(text)
    if status == Status.NOT_APPLICABLE:
        return TierResult.not_applicable(text)
    return TierResult.not_tested(text)


def expected(statuses):
    applicable = [s for s in statuses if s != Status.NOT_APPLICABLE]
    if not applicable:
        return Status.NOT_APPLICABLE
    for s in (Status.FAIL, Status.ERROR, Status.NOT_TESTED):
        if s in applicable:
            return s
    return Status.PASS


@pytest.mark.parametrize("statuses", list(itertools.product(list(Status), repeat=3)))
def test_every_combination_of_three_tiers(statuses):
    tiers = {name: tier(s) for name, s in zip(("haiku", "sonnet", "opus"), statuses)}
    status, error, reason = aggregate(tiers)
    assert status == expected(statuses)
    if status in (Status.FAIL, Status.ERROR):
        assert error and f"{status.value} happened" in error
        # the message names the tiers it comes from
        for name, s in zip(("haiku", "sonnet", "opus"), statuses):
            assert (name in error) == (s == status)
    if status == Status.NOT_APPLICABLE:
        assert reason
    if status == Status.PASS:
        assert error is None and reason is None


def test_no_tiers_is_not_tested():
    assert aggregate({})[0] == Status.NOT_TESTED
