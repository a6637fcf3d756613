"""The gateways of a run side by side: which file holds each gateway's matrix, and the index that lists them.

LiteLLM's matrix keeps its path (`compatibility-matrix.json`, schema v1, unchanged for LiteLLM-only consumers);
another gateway's goes next to it as `compatibility-matrix-<gateway>.json`; `compatibility-matrix.index.json`
lists every gateway's matrix of the run (name, release, profile, file, counts) — the comparison page and
`ccmatrix compare-gateways` start from it. The same names are used in a git target, next to its `git_path`.
"""
from __future__ import annotations

import json
import posixpath
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ccmatrix.publish.history import counts

LITELLM = "litellm"
MATRIX_FILE = "compatibility-matrix.json"
INDEX_SUFFIX = ".index.json"


def matrix_file(gateway: str, base: str = MATRIX_FILE) -> str:
    """Where a gateway's matrix goes, next to `base` (LiteLLM's own file): LiteLLM's is `base` itself."""
    if gateway == LITELLM:
        return base
    stem, ext = posixpath.splitext(base)
    return f"{stem}-{gateway}{ext or '.json'}"


def index_file(base: str = MATRIX_FILE) -> str:
    stem, _ = posixpath.splitext(base)
    return stem + INDEX_SUFFIX


def gateway_of(document: dict[str, Any]) -> dict[str, Any]:
    """A matrix document's gateway record; a document written before the field is LiteLLM's."""
    record = document.get("gateway")
    if isinstance(record, dict) and record.get("name"):
        return record
    profile = document.get("gateway_profile") or {}
    return {"name": LITELLM, "version": document.get("litellm_version"), "profile": profile.get("name")}


class IndexEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    display_name: str
    version: str
    profile: str | None = None
    file: str  # relative to the index
    counts: dict[str, int]
    regression: str | None = None  # clean | regressed, against that gateway's own previous published run


class GatewayIndex(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schema_version: str = "1"
    run_id: str
    generated_at: datetime
    claude_code_version: str
    gateways: list[IndexEntry] = Field(min_length=1)


def build_index(documents: list[dict[str, Any]], base: str = MATRIX_FILE,
                regressions: dict[str, str] | None = None) -> GatewayIndex:
    """The index of a run's matrices (one per gateway, in the run's order). Matrices of different runs, two of one
    gateway, or none at all raise ValueError: a set that does not belong together is never published."""
    if not documents:
        raise ValueError("no matrix to index")
    runs = {d.get("run_id") for d in documents}
    if len(runs) != 1:
        raise ValueError(f"the matrices come from different runs: {sorted(map(str, runs))}")
    names = [gateway_of(d)["name"] for d in documents]
    if len(set(names)) != len(names):
        raise ValueError(f"a gateway has more than one matrix: {names}")
    regressions = regressions or {}
    entries = []
    for document, name in zip(documents, names):
        record = gateway_of(document)
        entries.append(IndexEntry(name=name, display_name=record.get("display_name") or name,
                                  version=str(record.get("version")), profile=record.get("profile"),
                                  file=posixpath.basename(matrix_file(name, base)), counts=counts(document),
                                  regression=regressions.get(name)))
    first = documents[0]
    return GatewayIndex(run_id=first["run_id"], generated_at=first["generated_at"],
                        claude_code_version=first["claude_code_version"], gateways=entries)


def index_json(index: GatewayIndex) -> str:
    return json.dumps(index.model_dump(mode="json", exclude_none=True), indent=2) + "\n"
