"""History of finished runs: one JSON file per run (run id, versions, time, counts, the matrix document).

Layout: `<history_dir>/runs/<safe run id>.json`, written atomically. The history dir is `settings.history_dir`, or
`<settings.out_dir>/history` when that is unset. A run is referenced by its run id, a unique prefix of it,
`latest`, or `latest~N` (N runs before the latest).
"""
from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, field_validator

from ccmatrix.publish.directory import atomic_write

STATUSES = ("pass", "fail", "error", "not_applicable", "not_tested")
_SAFE = re.compile(r"[^A-Za-z0-9._-]")


class HistoryError(LookupError):
    """A run reference that matches no run, or more than one."""


class RunEntry(BaseModel):
    run_id: str
    generated_at: datetime
    recorded_at: datetime
    litellm_version: str
    claude_code_version: str
    published: bool = True
    counts: dict[str, int] = Field(default_factory=dict)
    matrix: dict[str, Any]

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
