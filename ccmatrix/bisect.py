"""Bisect: the pure search for the release where a cell changed status (no Celery, no registry, no CLI here).

`bisect(releases, good, bad, probe)` takes the ordered release list (oldest first), the release claimed good and the
one claimed bad (either may be the newer one), and a probe callable that answers a batch of releases with one
`Probe` each (pass / fail / error / skip). It returns where the status changes:

- good older than bad: a regression — the first bad release (and the last good one);
- good newer than bad: a fix — the first good (fixed) release (and the last bad one).

Rules:
- Both endpoints are probed first; an endpoint whose status is not the claimed one is a `BisectError` (one line).
- An `error` probe (infrastructure: we could not tell) is retried once; if it errs again it is reported and excluded
  — never taken as good or bad; the search goes on over its neighbours. A `skip` probe (the release does not install
  here) is excluded at once, with its reason.
- When excluded releases lie between the last release of the old status and the first of the new one, the change may
  be at any of them: the result names them (`untested`).
- `width` probes are sent at once (a cluster with several worker slots): the open range is cut into width + 1 equal
  parts; width 1 is the classic midpoint.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Literal

Verdict = Literal["pass", "fail", "error", "skip"]
VERDICTS: tuple[str, ...] = ("pass", "fail", "error", "skip")


class BisectError(ValueError):
    """The search cannot start or cannot conclude; the message is one line."""


@dataclass
class Probe:
    """One probe's answer: the release, the verdict, and what the cell said (status, cause, one-line reason)."""

    version: str
    verdict: Verdict
    status: str | None = None  # the cell's status (pass, fail, error, not_tested, ...), None for a skip
    cause: str | None = None
    reason: str = ""
    attempt: int = 1

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict {self.verdict!r} is not one of {VERDICTS}")


ProbeBatch = Callable[[list[str]], Iterable[Probe]]


@dataclass
class Result:
    direction: Literal["regression", "fix"]
    releases: list[str]  # the searched range, oldest first, endpoints included
    first: str  # the first bad release (regression) or the first good one (fix)
    last: str  # the release before it with the other status: the last good (regression) or last bad (fix)
    probes: list[Probe] = field(default_factory=list)  # every probe, in the order answered (retries included)
    excluded: dict[str, str] = field(default_factory=dict)  # release → why it was excluded (error twice, skip)
    untested: list[str] = field(default_factory=list)  # excluded releases between `last` and `first`

    @property
    def first_label(self) -> str:
        return "first bad release" if self.direction == "regression" else "first fixed release"

    @property
    def last_label(self) -> str:
        return "last good" if self.direction == "regression" else "last bad"


def _key(version: str) -> tuple:
    from packaging.version import InvalidVersion, Version

    try:
        return (0, Version(version))
    except InvalidVersion:
        return (1, version)


def releases_between(all_releases: Iterable[str], a: str, b: str) -> list[str]:
    """The releases from `a` to `b` (either order), endpoints included, oldest first. An endpoint that is not among
    `all_releases` is a BisectError."""
    known = sorted(set(all_releases), key=_key)
    for name, version in (("good", a), ("bad", b)):
        if version not in known:
            raise BisectError(f"{version} is not a known final release (the --{name} endpoint)")
    lo, hi = sorted((known.index(a), known.index(b)))
    return known[lo:hi + 1]


def _cut(lo: int, hi: int, candidates: list[int], width: int) -> list[int]:
    """Up to `width` of `candidates` (indices strictly between lo and hi) that cut (lo, hi) into equal parts."""
    if len(candidates) <= width:
        return list(candidates)
    picks: list[int] = []
    for part in range(1, width + 1):
        target = lo + (hi - lo) * part / (width + 1)
        best = min((c for c in candidates if c not in picks), key=lambda c: (abs(c - target), c))
        picks.append(best)
    return sorted(picks)


def bisect(releases: list[str], good: str, bad: str, probe: ProbeBatch, *, width: int = 1,
           on_probe: Callable[[Probe], None] | None = None) -> Result:
    """Search `releases` (oldest first; the range from good to bad, both included) for where the status changes."""
    if good == bad:
        raise BisectError(f"--good and --bad are the same release ({good})")
    if good not in releases or bad not in releases:
        missing = good if good not in releases else bad
        raise BisectError(f"{missing} is not in the release list")
    releases = list(releases)
    i_good, i_bad = releases.index(good), releases.index(bad)
    releases = releases[min(i_good, i_bad):max(i_good, i_bad) + 1]
    direction: Literal["regression", "fix"] = "regression" if i_good < i_bad else "fix"
    # old/new: the status of the oldest release and the status it changes to.
    old, new = ("pass", "fail") if direction == "regression" else ("fail", "pass")
    width = max(1, int(width))
    probes: list[Probe] = []
    seen: dict[str, Probe] = {}
    excluded: dict[str, str] = {}

    def ask(versions: list[str]) -> dict[str, Probe]:
        """Probe `versions`; an error is retried once (all retries in one batch); returns the final answer each."""
        answers = _answer(probe, versions, attempt=1, probes=probes, on_probe=on_probe)
        again = [v for v in versions if answers[v].verdict == "error"]
        if again:
            answers.update(_answer(probe, again, attempt=2, probes=probes, on_probe=on_probe))
        for version, answer in answers.items():
            seen[version] = answer
            if answer.verdict == "error":
                excluded[version] = f"error twice: {answer.reason}" if answer.reason else "error twice"
            elif answer.verdict == "skip":
                excluded[version] = f"does not install: {answer.reason}" if answer.reason else "does not install"
        return answers

    ends = ask([releases[0], releases[-1]])
    for version, claim, wanted in ((good, "good", "pass"), (bad, "bad", "fail")):
        got = ends[version]
        if got.verdict != wanted:
            said = got.status or got.verdict
            why = f": {got.reason}" if got.reason else ""
            raise BisectError(f"--{claim} {version} is not {claim}: the cell is {said} there (expected "
                              f"{'pass' if wanted == 'pass' else 'fail'}){why}")
    lo, hi = 0, len(releases) - 1  # state(lo) == old, state(hi) == new
    while True:
        candidates = [i for i in range(lo + 1, hi) if releases[i] not in excluded]
        if not candidates:
            break
        picks = _cut(lo, hi, candidates, width)
        answers = ask([releases[i] for i in picks])
        news = [i for i in picks if answers[releases[i]].verdict == new]
        if news:
            hi = min(news)
        olds = [i for i in picks if answers[releases[i]].verdict == old and i < hi]
        if olds:
            lo = max(olds)
    untested = [releases[i] for i in range(lo + 1, hi) if releases[i] in excluded]
    return Result(direction=direction, releases=releases, first=releases[hi], last=releases[lo], probes=probes,
                  excluded=excluded, untested=untested)


def _answer(probe: ProbeBatch, versions: list[str], *, attempt: int, probes: list[Probe],
            on_probe: Callable[[Probe], None] | None) -> dict[str, Probe]:
    answers: dict[str, Probe] = {}
    for answer in probe(list(versions)):
        if answer.version not in versions:
            raise BisectError(f"the probe answered {answer.version}, which was not asked")
        answer.attempt = attempt
        answers[answer.version] = answer
        probes.append(answer)
        if on_probe:
            on_probe(answer)
    missing = [v for v in versions if v not in answers]
    for version in missing:  # a probe that did not answer could not tell: an error, never good or bad
        answer = Probe(version, "error", reason="the probe gave no answer", attempt=attempt)
        answers[version] = answer
        probes.append(answer)
        if on_probe:
            on_probe(answer)
    return answers


def summary_line(result: Result, notes_url: Callable[[str], str] | None = None) -> str:
    """The last line: `first fixed release: 1.98.0 (last bad: 1.97.3) — <release notes>`."""
    line = f"{result.first_label}: {result.first} ({result.last_label}: {result.last})"
    if result.untested:
        line += f" — or any of the untested {', '.join(result.untested)}"
    if notes_url:
        line += f" — release notes: {notes_url(result.first)}"
    return line
