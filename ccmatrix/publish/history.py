"""History of finished runs: one JSON file per run (run id, versions, time, counts, the matrix document).

Layout: `<history_dir>/runs/<safe run id>.json`, written atomically. The history dir is `settings.history_dir`, or
`<settings.out_dir>/history` when that is unset. A run is referenced by its run id, a unique prefix of it,
`latest`, or `latest~N` (N runs before the latest).

Each gateway has its own history (`History.for_gateway`): LiteLLM's is the layout above, another gateway's the same
layout under `<history_dir>/gateways/<name>/`.

A run's entry also keeps, per cell that went green→red against the run published before it, the automatic bisect's
result (`bisects`, keyed `<feature>/<provider>`; written by `ccmatrix bisect-regressions`, ccmatrix.regression_bisect).
"""
from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from ccmatrix.publish.directory import atomic_write

STATUSES = ("pass", "fail", "error", "not_applicable", "not_tested")
_SAFE = re.compile(r"[^A-Za-z0-9._-]")


class HistoryError(LookupError):
    """A run reference that matches no run, or more than one."""


class CellBisect(BaseModel):
    """The automatic bisect of one cell that went green→red: where it changed, or why it was not (or could not be)
    bisected. `text` is the one line the page, the regression report and `ccmatrix history` show."""

    feature: str
    provider: str
    outcome: Literal["found", "same_releases", "could_not"]
    text: str  # "broke in LiteLLM 1.108.4 (last good: 1.108.3)", "no bisect: the same releases ...", "could not ..."
    axis: str | None = None  # "litellm" | "claude-code"
    good: str | None = None  # the baseline run's release on that axis (the cell passed there)
    bad: str | None = None  # the new run's release (the cell failed there)
    pinned: str | None = None  # the other axis's release, held fixed
    tiers: list[str] = Field(default_factory=list)  # the tiers probed (those that went pass → fail)
    direction: str | None = None  # "regression" (good older than bad) | "fix" (the run moved to an older release)
    first: str | None = None
    last: str | None = None
    untested: list[str] = Field(default_factory=list)
    probes: int = 0
    releases: int = 0
    notes_url: str | None = None
    baseline_run_id: str | None = None
    bisected_at: datetime | None = None


def cell_key(feature: str, provider: str) -> str:
    return f"{feature}/{provider}"


class RunEntry(BaseModel):
    run_id: str
    generated_at: datetime
    recorded_at: datetime
    litellm_version: str
    claude_code_version: str
    published: bool = True
    counts: dict[str, int] = Field(default_factory=dict)
    matrix: dict[str, Any]
    bisects: dict[str, CellBisect] = Field(default_factory=dict)  # cell_key → the automatic bisect's result

    @field_validator("generated_at", "recorded_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def history_dir(settings: Any) -> Path:
    configured = getattr(settings, "history_dir", None)
    return Path(configured) if configured else Path(settings.out_dir) / "history"


def counts(document: dict[str, Any]) -> dict[str, int]:
    result = {s: 0 for s in STATUSES}
    providers = document.get("providers") or []
    for feature in document.get("features", []):
        cells = feature.get("providers") or {}
        for provider in providers or list(cells):
            status = (cells.get(provider) or {}).get("status", "not_tested")
            result[status] = result.get(status, 0) + 1
    return result


def _file_name(run_id: str) -> str:
    safe = _SAFE.sub("_", run_id)[:100]
    if safe != run_id:  # keep distinct ids distinct after sanitising
        safe += "-" + hashlib.sha256(run_id.encode()).hexdigest()[:8]
    return safe + ".json"


class History:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.runs_dir = self.root / "runs"

    @classmethod
    def from_settings(cls, settings: Any) -> "History":
        return cls(history_dir(settings))

    @classmethod
    def for_gateway(cls, settings: Any, gateway: str = "litellm") -> "History":
        """A gateway's own history: LiteLLM's is the history of before; another gateway's is kept apart under
        `gateways/<name>/` (its runs are never a baseline for LiteLLM's, nor the other way round)."""
        root = history_dir(settings)
        return cls(root if gateway == "litellm" else root / "gateways" / _SAFE.sub("_", gateway))

    def record(self, document: dict[str, Any], *, published: bool = True) -> RunEntry:
        entry = RunEntry(
            run_id=document["run_id"],
            generated_at=document["generated_at"],
            recorded_at=datetime.now(timezone.utc),
            litellm_version=document["litellm_version"],
            claude_code_version=document["claude_code_version"],
            published=published,
            counts=counts(document),
            matrix=document,
        )
        atomic_write(self.runs_dir / _file_name(entry.run_id), entry.model_dump_json(indent=1) + "\n")
        return entry

    def store_bisects(self, run_id: str, bisects: dict[str, CellBisect]) -> RunEntry:
        """Keep `bisects` with the run's cells (replacing earlier results for the same cells)."""
        entry = self.resolve(run_id)
        entry.bisects = {**entry.bisects, **bisects}
        atomic_write(self.runs_dir / _file_name(entry.run_id), entry.model_dump_json(indent=1) + "\n")
        return entry

    def published_before(self, run_id: str) -> RunEntry | None:
        """The last published run recorded before `run_id` (the baseline its regression report was made against)."""
        runs = self.runs()
        index = next((i for i, e in enumerate(runs) if e.run_id == run_id), None)
        earlier = runs[:index] if index is not None else runs
        published = [e for e in earlier if e.published and e.run_id != run_id]
        return published[-1] if published else None

    def runs(self) -> list[RunEntry]:
        """All recorded runs, oldest first (by generation time, then recording time)."""
        if not self.runs_dir.is_dir():
            return []
        entries = []
        for path in self.runs_dir.glob("*.json"):
            try:
                entries.append(RunEntry.model_validate_json(path.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                continue  # a foreign or damaged file is not a run
        return sorted(entries, key=lambda e: (e.generated_at, e.recorded_at, e.run_id))

    def last_published(self, *, exclude_run_id: str | None = None) -> RunEntry | None:
        published = [e for e in self.runs() if e.published and e.run_id != exclude_run_id]
        return published[-1] if published else None

    def resolve(self, ref: str) -> RunEntry:
        runs = self.runs()
        if not runs:
            raise HistoryError(f"no runs recorded under {self.root}")
        match = re.fullmatch(r"latest(?:~(\d+))?", ref)
        if match:
            back = int(match.group(1) or 0)
            if back >= len(runs):
                raise HistoryError(f"{ref!r}: only {len(runs)} run(s) recorded")
            return runs[-1 - back]
        exact = [e for e in runs if e.run_id == ref]
        if exact:
            return exact[-1]
        hits = [e for e in runs if e.run_id.startswith(ref)]
        if len(hits) == 1:
            return hits[0]
        if not hits:
            raise HistoryError(f"no run matches {ref!r}; `ccmatrix history` lists the runs")
        raise HistoryError(f"{ref!r} is ambiguous: it matches {', '.join(e.run_id for e in hits[:10])}")
