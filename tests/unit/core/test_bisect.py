"""ccmatrix.bisect: the pure search, on scripted oracles (no Celery, no registry)."""
from __future__ import annotations

import pytest

from ccmatrix.bisect import BisectError, Probe, bisect, releases_between, summary_line

RELEASES = [f"1.{minor}.0" for minor in range(90, 110)]  # 1.90.0 … 1.109.0, oldest first


class Oracle:
    """Answers each release from a function of its index; records every batch it was asked."""

    def __init__(self, verdict_of, releases=RELEASES):
        self.verdict_of = verdict_of
        self.releases = releases
        self.batches: list[list[str]] = []
        self.asked: list[str] = []

    def __call__(self, versions):
        self.batches.append(list(versions))
        out = []
        for version in versions:
            self.asked.append(version)
            verdict = self.verdict_of(self.releases.index(version), self.asked.count(version))
            out.append(Probe(version, verdict, status=verdict if verdict != "skip" else None,
                             reason="" if verdict == "pass" else f"{verdict} at {version}"))
        return out


def monotone(change: int, before="pass", after="fail"):
    return lambda index, attempt: before if index < change else after


@pytest.mark.parametrize("change", [1, 2, 7, 10, 19])
@pytest.mark.parametrize("width", [1, 2, 3])
def test_monotone_regression_finds_the_first_bad_release(change, width):
    oracle = Oracle(monotone(change))
    result = bisect(RELEASES, RELEASES[0], RELEASES[-1], oracle, width=width)
    assert result.direction == "regression"
    assert (result.first, result.last) == (RELEASES[change], RELEASES[change - 1])
    assert result.untested == [] and result.excluded == {}
    assert oracle.batches[0] == [RELEASES[0], RELEASES[-1]]  # the endpoints are checked first
    assert all(len(batch) <= max(2, width) for batch in oracle.batches)
    assert len(oracle.asked) <= 2 + width * 6  # logarithmic, not a walk over 20 releases
    assert summary_line(result).startswith(f"first bad release: {RELEASES[change]} (last good: {RELEASES[change - 1]})")


@pytest.mark.parametrize("change", [1, 5, 13, 19])
def test_good_newer_than_bad_finds_the_first_fixed_release(change):
    oracle = Oracle(monotone(change, before="fail", after="pass"))
    result = bisect(RELEASES, good=RELEASES[-1], bad=RELEASES[0], probe=oracle)
    assert result.direction == "fix"
    assert (result.first, result.last) == (RELEASES[change], RELEASES[change - 1])
    line = summary_line(result, lambda v: f"https://example.invalid/v{v}")
    assert line == (f"first fixed release: {RELEASES[change]} (last bad: {RELEASES[change - 1]}) — release notes: "
                    f"https://example.invalid/v{RELEASES[change]}")


def test_the_search_only_covers_the_range_between_good_and_bad():
    oracle = Oracle(monotone(8))
    result = bisect(RELEASES, RELEASES[3], RELEASES[12], oracle)
    assert result.releases == RELEASES[3:13]
    assert set(oracle.asked) <= set(RELEASES[3:13])
    assert result.first == RELEASES[8]


def test_an_error_probe_is_retried_once_then_excluded_and_its_neighbours_searched():
    broken = 9  # the first midpoint of 0..19 errs every time: never good, never bad
    oracle = Oracle(lambda i, attempt: "error" if i == broken else ("fail" if i < 13 else "pass"))
    seen = []
    result = bisect(RELEASES, RELEASES[-1], RELEASES[0], oracle, on_probe=seen.append)
    assert oracle.asked.count(RELEASES[broken]) == 2  # retried once
    assert [p.attempt for p in seen if p.version == RELEASES[broken]] == [1, 2]
    assert RELEASES[broken] in result.excluded and "error twice" in result.excluded[RELEASES[broken]]
    assert (result.first, result.last) == (RELEASES[13], RELEASES[12])
    assert result.untested == []


def test_an_error_probe_that_succeeds_on_retry_counts():
    oracle = Oracle(lambda i, attempt: "error" if (i == 10 and attempt == 1) else monotone(10)(i, attempt))
    result = bisect(RELEASES, RELEASES[0], RELEASES[-1], oracle)
    assert result.first == RELEASES[10] and result.excluded == {}


def test_an_excluded_release_at_the_boundary_is_named_untested():
    oracle = Oracle(lambda i, attempt: "error" if i == 6 else ("pass" if i < 6 else "fail"))
    result = bisect(RELEASES, RELEASES[0], RELEASES[-1], oracle)
    assert (result.last, result.first) == (RELEASES[5], RELEASES[7])
    assert result.untested == [RELEASES[6]]
    assert "untested 1.96.0" in summary_line(result)


def test_a_release_that_does_not_install_is_skipped_without_retry():
    oracle = Oracle(lambda i, attempt: "skip" if i == 9 else monotone(4)(i, attempt))
    result = bisect(RELEASES, RELEASES[0], RELEASES[-1], oracle, width=1)
    assert result.first == RELEASES[4]
    if RELEASES[9] in oracle.asked:
        assert oracle.asked.count(RELEASES[9]) == 1
        assert result.excluded[RELEASES[9]].startswith("does not install")


def test_two_adjacent_releases_need_only_the_endpoint_probes():
    pair = RELEASES[:2]
    oracle = Oracle(monotone(1), releases=pair)
    result = bisect(pair, pair[0], pair[1], oracle)
    assert (result.last, result.first) == (pair[0], pair[1])
    assert oracle.asked == pair


def test_a_single_release_between_the_endpoints():
    trio = RELEASES[:3]
    for change in (1, 2):
        oracle = Oracle(monotone(change), releases=trio)
        result = bisect(trio, trio[0], trio[2], oracle, width=3)
        assert result.first == trio[change]
        assert sorted(oracle.asked) == sorted(trio)


def test_non_monotone_batches_take_the_earliest_change():
    # pass, fail at 5, pass again at 8..12, fail from 13: a batch that sees both keeps the earliest new status
    pattern = lambda i, attempt: "fail" if (5 <= i < 8 or i >= 13) else "pass"  # noqa: E731
    result = bisect(RELEASES, RELEASES[0], RELEASES[-1], Oracle(pattern), width=3)
    assert result.probes and result.first in (RELEASES[5], RELEASES[13])
    assert (RELEASES.index(result.first) - RELEASES.index(result.last)) == 1


@pytest.mark.parametrize("good_status, bad_status, words", [
    ("fail", "fail", "--good 1.109.0 is not good: the cell is fail there"),
    ("pass", "pass", "--bad 1.90.0 is not bad: the cell is pass there"),
    ("error", "fail", "--good 1.109.0 is not good: the cell is error there"),
    ("pass", "skip", "--bad 1.90.0 is not bad: the cell is skip there"),
])
def test_endpoints_not_matching_their_claim_are_one_clear_line(good_status, bad_status, words):
    def verdict(i, attempt):
        return good_status if i == len(RELEASES) - 1 else bad_status if i == 0 else "pass"

    with pytest.raises(BisectError) as caught:
        bisect(RELEASES, good=RELEASES[-1], bad=RELEASES[0], probe=Oracle(verdict))
    message = str(caught.value)
    assert message.startswith(words) and "\n" not in message


def test_same_release_or_unknown_release_is_refused():
    with pytest.raises(BisectError, match="same release"):
        bisect(RELEASES, RELEASES[1], RELEASES[1], Oracle(monotone(1)))
    with pytest.raises(BisectError, match="not a known final release"):
        releases_between(RELEASES, "1.2.3", RELEASES[0])


def test_releases_between_orders_by_version_not_text_and_keeps_both_ends():
    known = ["1.100.0", "1.99.0", "1.9.0", "1.101.0", "1.98.0"]
    assert releases_between(known, "1.100.0", "1.98.0") == ["1.98.0", "1.99.0", "1.100.0"]


def test_a_probe_that_does_not_answer_is_an_error_never_good_or_bad():
    mute = RELEASES[9]  # the first midpoint: it never gets an answer

    def silent(versions):
        return [Probe(v, "pass" if RELEASES.index(v) < 12 else "fail") for v in versions if v != mute]

    result = bisect(RELEASES, RELEASES[0], RELEASES[-1], silent)
    assert "no answer" in result.excluded[mute]
    assert [p.attempt for p in result.probes if p.version == mute] == [1, 2]
    assert result.first == RELEASES[12]
