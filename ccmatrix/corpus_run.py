"""`ccmatrix corpus run`: does the emulator reproduce each known gateway bug? The verdict logic, pure.

A case is *reproduced* when its cell is red (`fail`) at its (first) buggy release on one of its tiers for the case's
reason — a failed tier whose assertion, error, gateway response or upstream refusal contains one of the case's
`match` texts (any red tier when the case has none; the report says so) — and, at its fixed release, not red for
that reason (green, or red for another reason, which the report names). An `open` case has only its buggy release.
A release that does not install (or a cell that cannot be planned) makes the case `not_run` with the reason; an
error or not_tested cell could not tell: not reproduced, with why.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from ccmatrix.corpus import Case

REPRODUCED, NOT_REPRODUCED, NOT_RUN = "reproduced", "not_reproduced", "not_run"
Verdict = Literal["reproduced", "not_reproduced", "not_run"]


@dataclass
class Side:
    """One release of a case: the outcome (a CellOutcome) or why it did not run / did not come back."""

    version: str
    outcome: Any = None
    not_run: str | None = None  # does not install, cannot be planned
    failed: str | None = None  # the job did not come back (infrastructure)


@dataclass
class CaseVerdict:
    case: str
    verdict: Verdict
    reason: str
    buggy: dict[str, Any] = field(default_factory=dict)
    fixed: dict[str, Any] | None = None
    matched_by: str | None = None  # "match" (the case's texts) or "any red" (the case has none)

    def line(self) -> str:
        word = {REPRODUCED: "reproduced", NOT_REPRODUCED: "not reproduced", NOT_RUN: "not run"}[self.verdict]
        return f"{self.case}: {word}: {self.reason}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _one_line(text: Any, limit: int = 200) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def tier_texts(tier) -> list[str]:
    """What a tier says about why it did not pass: error, reason, assertion, the gateway's answer, refusals."""
    texts = [tier.error, tier.reason]
    evidence = tier.evidence
    if evidence is not None:
        texts.append(evidence.assertion)
        if evidence.gateway_response is not None:
            texts.append(evidence.gateway_response.body)
        texts += [call.reason for call in evidence.upstream_calls]
        texts += list(evidence.findings)
    return [t for t in texts if t]


def red_tiers(case: Case, outcome) -> dict[str, str]:
    """The case's tiers that are red for the case's reason: tier → the text that matched (or the tier's error)."""
    out = {}
    for name in case.cell.tiers:
        tier = outcome.tiers.get(name)
        if tier is None or tier.status.value != "fail":
            continue
        texts = tier_texts(tier)
        if not case.match:
            out[name] = _one_line(tier.error or (tier.evidence.assertion if tier.evidence else "") or "fail")
            continue
        for wanted in case.match:
            hit = next((t for t in texts if wanted.lower() in t.lower()), None)
            if hit:
                out[name] = wanted
                break
    return out


def _status(outcome) -> str:
    return outcome.status.value


def _summary(side: Side, case: Case) -> dict[str, Any]:
    info: dict[str, Any] = {"version": side.version}
    if side.not_run:
        info["not_run"] = side.not_run
    elif side.failed or side.outcome is None:
        info["status"] = "error"
        info["reason"] = side.failed or "no outcome"
    else:
        outcome = side.outcome
        info["status"] = _status(outcome)
        info["tiers"] = {name: tier.status.value for name, tier in outcome.tiers.items()}
        info["reason"] = _one_line(outcome.error or outcome.reason or "", 400)
        info["red_for_case"] = red_tiers(case, outcome)
    return info


def _why_not_red(side: Side, case: Case) -> str:
    """Why the buggy side does not show the bug (it is not red for the case's reason)."""
    if side.failed or side.outcome is None:
        return f"{side.version} could not tell (the job failed: {_one_line(side.failed or 'no outcome')})"
    outcome = side.outcome
    status = _status(outcome)
    if status == "pass":
        return f"green at buggy {side.version}"
    if status == "fail":
        return (f"red at buggy {side.version} but not for the case's reason (match {case.match}): "
                f"{_one_line(outcome.error)}")
    return f"{status} at buggy {side.version} (could not tell): {_one_line(outcome.error or outcome.reason)}"


def judge(case: Case, buggy: Side, fixed: Side | None) -> CaseVerdict:
    """The verdict of one case from its buggy side and (unless the case is open) its fixed side."""
    matched_by = "match" if case.match else "any red"
    verdict = CaseVerdict(case=case.id, verdict=NOT_REPRODUCED, reason="", buggy=_summary(buggy, case),
                          fixed=_summary(fixed, case) if fixed else None, matched_by=matched_by)
    if buggy.not_run:
        verdict.verdict, verdict.reason = NOT_RUN, f"buggy {buggy.version}: {buggy.not_run}"
        return verdict
    red = red_tiers(case, buggy.outcome) if (buggy.outcome is not None and not buggy.failed) else {}
    if not red:
        verdict.reason = _why_not_red(buggy, case)
        return verdict
    shown = ", ".join(f"{tier}: {text}" for tier, text in red.items())
    note = "" if case.match else " (the case names no match text: any red tier counted)"
    if fixed is None:
        verdict.verdict = REPRODUCED
        verdict.reason = f"red at buggy {buggy.version} ({shown}); fix open{note}"
        return verdict
    if fixed.not_run:
        verdict.verdict = NOT_RUN
        verdict.reason = f"red at buggy {buggy.version} ({shown}); fixed {fixed.version}: {fixed.not_run}"
        return verdict
    if fixed.failed or fixed.outcome is None:
        verdict.reason = (f"red at buggy {buggy.version}; fixed {fixed.version} could not tell (the job failed: "
                          f"{_one_line(fixed.failed or 'no outcome')})")
        return verdict
    status = _status(fixed.outcome)
    still = red_tiers(case, fixed.outcome)
    if still:
        verdict.reason = (f"red at buggy {buggy.version} and still red for the same reason at fixed {fixed.version} "
                          f"({', '.join(f'{t}: {x}' for t, x in still.items())})")
        return verdict
    if status == "pass":
        verdict.verdict = REPRODUCED
        verdict.reason = f"red at buggy {buggy.version} ({shown}), green at fixed {fixed.version}{note}"
        return verdict
    if status == "fail":  # red at the fixed release, for another reason: the bug itself is gone
        verdict.verdict = REPRODUCED
        verdict.reason = (f"red at buggy {buggy.version} ({shown}); at fixed {fixed.version} red only for another "
                          f"reason ({_one_line(fixed.outcome.error, 160)}){note}")
        return verdict
    verdict.reason = (f"red at buggy {buggy.version} ({shown}); fixed {fixed.version} is {status} (could not tell): "
                      f"{_one_line(fixed.outcome.error or fixed.outcome.reason)}")
    return verdict


def score_line(verdicts: list[CaseVerdict]) -> str:
    done = sum(1 for v in verdicts if v.verdict == REPRODUCED)
    return f"corpus: {done}/{len(verdicts)} reproduced"


def report(verdicts: list[CaseVerdict], **extra: Any) -> dict[str, Any]:
    counts = {name: sum(1 for v in verdicts if v.verdict == name) for name in (REPRODUCED, NOT_REPRODUCED, NOT_RUN)}
    return {**extra, "score": score_line(verdicts), "counts": counts, "total": len(verdicts),
            "cases": [v.to_json() for v in verdicts]}
