"""One cell across the kept runs: its status (and its tiers') per (LiteLLM, Claude Code) version pair, newest first.

`cell_history(runs, feature, provider)` serves `ccmatrix history --feature F --provider P`; `page_data(runs, document)`
is the small JSON the page embeds next to the matrix for the cell timelines (each run's versions once, then per cell
only [run index, status, tier statuses, bisect line]) and the current run's bisect results.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from pydantic import BaseModel, Field

from ccmatrix.publish.history import CellBisect, RunEntry, cell_key

#: Runs the page's timelines go back (the history itself keeps every run; `ccmatrix history` shows them all).
PAGE_RUNS = 60


class CellRun(BaseModel):
    run_id: str
    generated_at: datetime
    litellm_version: str
    claude_code_version: str
    published: bool = True
    status: str
    tiers: dict[str, str] = Field(default_factory=dict)
    cause: str | None = None
    error: str | None = None
    bisect: CellBisect | None = None


def _cell(document: dict[str, Any], feature: str, provider: str) -> dict[str, Any] | None:
    for row in document.get("features") or []:
        if row.get("id") == feature:
            cell = (row.get("providers") or {}).get(provider)
            return cell if isinstance(cell, dict) else None
    return None


def cell_history(runs: Iterable[RunEntry], feature: str, provider: str) -> list[CellRun]:
    """Every kept run that has this cell, newest first."""
    from ccmatrix.publish.regressions import cell_cause

    found = []
    for entry in runs:
        cell = _cell(entry.matrix, feature, provider)
        if cell is None:
            continue
        status = str(cell.get("status") or "not_tested")
        found.append(CellRun(
            run_id=entry.run_id, generated_at=entry.generated_at, litellm_version=entry.litellm_version,
            claude_code_version=entry.claude_code_version, published=entry.published, status=status,
            tiers={t: str((d or {}).get("status")) for t, d in (cell.get("tiers") or {}).items()},
            cause=cell_cause(cell),
            error=(" ".join(str(cell.get("error") or cell.get("reason") or "").split())[:300] or None)
            if status != "pass" else None,
            bisect=entry.bisects.get(cell_key(feature, provider))))
    found.sort(key=lambda r: r.generated_at, reverse=True)
    return found


def page_data(runs: list[RunEntry], document: dict[str, Any], *, limit: int = PAGE_RUNS) -> dict[str, Any]:
    """What the page needs for the cell timelines: the current run (from `document`, recorded or not) and the kept
    runs before it, newest first, at most `limit`; and the current run's bisect results (`bisects`)."""
    current = next((e for e in runs if e.run_id == document.get("run_id")), None)
    others = [e for e in runs if e.run_id != document.get("run_id")]
    others.sort(key=lambda e: (e.generated_at, e.recorded_at), reverse=True)
    head = current or RunEntry.model_validate({
        "run_id": document["run_id"], "generated_at": document["generated_at"],
        "recorded_at": document["generated_at"], "litellm_version": document["litellm_version"],
        "claude_code_version": document["claude_code_version"], "matrix": document})
    head = head.model_copy(update={"matrix": document})
    chosen = [head] + others[: max(0, limit - 1)]
    out_runs = []
    cells: dict[str, list] = {}
    for index, entry in enumerate(chosen):
        out_runs.append({"run_id": entry.run_id, "generated_at": entry.generated_at.isoformat(),
                         "litellm_version": entry.litellm_version,
                         "claude_code_version": entry.claude_code_version,
                         **({} if entry.published else {"published": False})})
        for row in entry.matrix.get("features") or []:
            for provider, cell in (row.get("providers") or {}).items():
                if not isinstance(cell, dict):
                    continue
                key = cell_key(row.get("id"), provider)
                tiers = {t: (d or {}).get("status") for t, d in (cell.get("tiers") or {}).items()}
                item: list[Any] = [index, cell.get("status"), tiers]
                bisect = entry.bisects.get(key)
                if bisect is not None:
                    item.append(bisect.text)
                cells.setdefault(key, []).append(item)
    data: dict[str, Any] = {"runs": out_runs, "cells": cells,
                            "bisects": {k: b.model_dump(mode="json", exclude_none=True, exclude={"bisected_at"})
                                        for k, b in head.bisects.items()}}
    if len(others) + 1 > len(chosen):
        data["omitted_runs"] = len(others) + 1 - len(chosen)
    return data
