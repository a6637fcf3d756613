"""The published matrix: LiteLLM's v1 shape plus per-tier detail and the run id; its JSON Schema."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ccmatrix.manifest import Manifest, Selection
from ccmatrix.outcomes import CellResult, Status, TierResult

SCHEMA_VERSION = "1"


class TierDetail(TierResult):
    """A tier as published: the worker's TierResult, closed to unknown keys."""

    model_config = ConfigDict(extra="forbid")


class Cell(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Status
    error: str | None = None
    reason: str | None = None
    tiers: dict[str, TierDetail] = Field(default_factory=dict)
    fidelity: dict[str, Any] | None = None


class FeatureRow(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    providers: dict[str, Cell]


class Matrix(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schema_version: Literal["1"] = SCHEMA_VERSION
    generated_at: datetime
    run_id: str
    litellm_version: str
    claude_code_version: str
    providers: list[str]
    provider_names: dict[str, str] = Field(default_factory=dict)
    tiers: list[str] = Field(default_factory=list)
    features: list[FeatureRow]
    report: dict[str, Any] = Field(default_factory=dict)


class IncompleteMatrix(ValueError):
    """Cells are missing or unexpected: a partial matrix is never published."""


def build_matrix(
    manifest: Manifest,
    selection: Selection,
    cells: list[CellResult],
    *,
    run_id: str,
    litellm_version: str,
    claude_code_version: str,
    generated_at: datetime | None = None,
    report: dict[str, Any] | None = None,
) -> Matrix:
    by_key = {(c.feature, c.provider): c for c in cells}
    expected = {(f, p) for f in selection.features for p in selection.providers}
    missing = sorted(expected - set(by_key))
    unexpected = sorted(set(by_key) - expected)
    if missing or unexpected or len(by_key) != len(cells):
        raise IncompleteMatrix(f"missing cells {missing}, unexpected cells {unexpected}, {len(cells)} results")
    rows = []
    for feature_id in selection.features:
        feature = manifest.feature(feature_id)
        row = {}
        for provider_id in selection.providers:
            cell = by_key[(feature_id, provider_id)]
            row[provider_id] = Cell(
                status=cell.status,
                error=cell.error,
                reason=cell.reason,
                tiers={name: TierDetail(**t.model_dump()) for name, t in cell.tiers.items()},
                fidelity=cell.fidelity,
            )
        rows.append(FeatureRow(id=feature.id, name=feature.name, providers=row))
    return Matrix(
        generated_at=generated_at or datetime.now(timezone.utc),
        run_id=run_id,
        litellm_version=litellm_version,
        claude_code_version=claude_code_version,
        providers=list(selection.providers),
        provider_names={p: manifest.provider(p).name for p in selection.providers},
        tiers=list(selection.tiers),
        features=rows,
        report=report or {},
    )


def json_schema() -> dict[str, Any]:
    schema = Matrix.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://ccmatrix.invalid/compatibility-matrix.schema.json"
    return schema


def validate_document(document: dict[str, Any]) -> None:
    """Validate a matrix document against the published JSON Schema (raises jsonschema.ValidationError)."""
    import jsonschema

    jsonschema.validate(document, json_schema())


def to_json(matrix: Matrix) -> str:
    return json.dumps(matrix.model_dump(mode="json", exclude_none=True), indent=2, sort_keys=False) + "\n"
