"""Judging fidelity: what the CLI sent against what the provider received, per tier and per cell."""
from __future__ import annotations

import logging
import re
from functools import lru_cache

from celery.exceptions import SoftTimeLimitExceeded

from ccmatrix.contract import CellJob
from ccmatrix.outcomes import Status, TierResult

log = logging.getLogger("ccmatrix.worker")

VERDICT_ORDER = ["clean", "expected-only", "unknown", "unexpected"]  # best to worst


def judge_fidelity(outcome: TierResult, env, job: CellJob, job_id: str, provider, tier: str, strict: bool) -> None:
    """Diff what the CLI sent against what the provider received; attach it. Nothing captured on a side, or a
    comparison that crashed, is `unknown` with the reason — never `clean`. Strict mode fails a passing tier whose
    verdict is `unexpected` or `unknown`."""
    if outcome.status in (Status.ERROR, Status.NOT_APPLICABLE, Status.NOT_TESTED):
        return
    from ccmatrix.local_source import release_of  # a local tree or wheel: the version it declares
    from fidelity import compare_run

    try:
        result = compare_run(env.client_captures(job_id), env.captures(job_id), provider=provider.id, tier=tier,
                             litellm_version=release_of(job.litellm_version), rules=_rules(),
                             expected_upstream_model=provider.models.get(tier))
        outcome.fidelity = compact_fidelity(result.model_dump(mode="json"))
        verdict = result.verdict
        detail = (", ".join(r.path for r in result.unexpected[:8]) if verdict == "unexpected"
                  else "; ".join(result.notes)[:300])
    except SoftTimeLimitExceeded:
        raise  # the job's time limit: run_cell turns the unfinished tiers into errors
    except Exception as error:  # fidelity must never break the functional verdict (strict mode aside)
        log.exception("fidelity comparison failed for %s", job_id)
        verdict, detail = "unknown", f"fidelity comparison failed: {type(error).__name__}: {error}"[:500]
        outcome.fidelity = {"verdict": "unknown", "notes": [detail]}
    if strict and verdict in ("unexpected", "unknown") and outcome.status == Status.PASS:
        outcome.status = Status.FAIL
        outcome.cause = "gateway"  # strict mode: what cannot be shown faithful counts against the gateway
        outcome.error = (f"strict fidelity: unexpected translation differences at {detail}" if verdict == "unexpected"
                         else f"strict fidelity: fidelity could not be judged: {detail}")
        if outcome.evidence is not None:
            outcome.evidence.assertion = outcome.error


_INDEX = re.compile(r"\[[^\]]*\]")


def compact_fidelity(data: dict, limit: int = 60) -> dict:
    """Keep every unexpected record (up to `limit`); fold expected ones sharing (rule, kind, path shape) into one
    record with a `count`, so 24 tools losing the same keyword are one line, not 24."""
    records = data.get("records") or []
    unexpected = [r for r in records if r.get("status") != "expected"]
    folded: dict[tuple, dict] = {}
    for record in records:
        if record.get("status") != "expected":
            continue
        key = (record.get("rule"), record.get("kind"), _INDEX.sub("[*]", record.get("path", "")))
        if key in folded:
            folded[key]["count"] += 1
            if len(folded[key]["examples"]) < 5 and record.get("path") not in folded[key]["examples"]:
                folded[key]["examples"].append(record.get("path"))
        else:
            folded[key] = {**record, "count": 1, "examples": [record.get("path")]}
    for record in folded.values():
        if record["count"] > 1 and len(set(record["examples"])) > 1:
            record["path"] = _INDEX.sub("[*]", record["path"])
            record.pop("before", None)
            record.pop("after", None)
        else:
            record.pop("examples", None)
    data["records"] = unexpected[:limit] + list(folded.values())
    if len(unexpected) > limit:
        data.setdefault("notes", []).append(f"{len(unexpected) - limit} more unexpected records not shown")
    return data


def cell_fidelity(tiers: dict[str, TierResult]) -> dict | None:
    """The cell's fidelity: its worst tier verdict, the rules that matched and the unexpected records counted."""
    judged = {name: t.fidelity for name, t in tiers.items() if t.fidelity and t.fidelity.get("verdict") in VERDICT_ORDER}
    if not judged:
        return None
    worst = max((f["verdict"] for f in judged.values()), key=VERDICT_ORDER.index)
    matched = sorted({rule for f in judged.values() for rule in f.get("matched_rules", [])})
    unexpected = sum(1 for f in judged.values() for r in f.get("records", []) if r.get("status") == "unexpected")
    return {"verdict": worst, "matched_rules": matched, "unexpected": unexpected,
            "tiers": {name: f["verdict"] for name, f in judged.items()}}


@lru_cache(maxsize=1)
def _rules():
    from fidelity import RuleSet

    return RuleSet.load()
