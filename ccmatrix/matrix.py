"""The published matrix: LiteLLM's v1 shape plus per-tier detail and the run id; its JSON Schema.

Schema v1 only ever grows: fields are added (optional for documents written before them), never renamed.
"""
from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timezone
from typing import Any, Iterable, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ccmatrix.manifest import Manifest, Selection
from ccmatrix.outcomes import CAUSES, CellResult, Status, TierResult
from ccmatrix.strictness import run_strictness

SCHEMA_VERSION = "1"

# How a provider column ran: against the offline emulator or the real provider. "mixed" when its cells disagree,
# "unknown" when some cell did not say (e.g. a worker older than the field); both come with a run-report problem.
Upstream = Literal["emulator", "real", "mixed", "unknown"]


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


class ProviderDetail(BaseModel):
    """One provider column: its display name, how it ran and, per tier, the model id it was tested with."""

    model_config = ConfigDict(extra="forbid")
    upstream: Upstream
    name: str
    # Added in v1 without a version bump: tier → the id the column's provider knows the tier's model by (null: the
    # CLI's model table says that provider does not offer it; the tier is not_applicable there).
    models: dict[str, str | None] | None = None


class TierModel(BaseModel):
    """How a tier's model was chosen for the run (ccmatrix/tiers.py): the policy asked for and the model it gave."""

    model_config = ConfigDict(extra="forbid")
    model: str  # the Claude API id (a column may test another one under the `alias` policy: providers_detail)
    policy: str | None = None  # "latest" | "alias" | "explicit"
    requested: str | None = None  # what the manifest or --tier-models said
    source: str | None = None  # "manifest" | "--tier-models"
    model_table: str | None = None  # the Claude Code version whose model table was asked
    table_model: str | None = None  # the model's id in that table


class LiteLLMSource(BaseModel):
    """A LiteLLM under test that is not a release (ccmatrix/local_source.py): a local source tree or a built wheel.
    `litellm_version` then holds its spec (`<path>#sha256=<hex>[&declares=<version>]`), never a release number."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["tree", "wheel"]
    path: str
    sha256: str  # a wheel: of the file; a tree: of its files' relative paths and contents
    declares: str | None = None  # the version the package declares
    label: str  # "LiteLLM local tree <path> (sha256 <12 hex>…, declares 1.x.y)": how the page and reports name it


def litellm_source(litellm_version: str) -> LiteLLMSource | None:
    """The local source a matrix's litellm_version names (None for a release)."""
    from ccmatrix.local_source import parse_spec

    source = parse_spec(litellm_version)
    return LiteLLMSource(**source.record()) if source else None


class GatewayProfileRecord(BaseModel):
    """The gateway profile the run's proxy ran with (gateway_profiles/litellm.yaml): its name and its own settings
    (the harness settings applied on top of every profile are in report.harness)."""

    model_config = ConfigDict(extra="forbid")
    name: str
    settings: dict[str, Any] = Field(default_factory=dict)


class GatewayRecord(BaseModel):
    """The gateway under test (issue 17: a plug-in of gateways/): its name, release and profile. A matrix without it
    (written before the field) is LiteLLM's; in another gateway's matrix, litellm_version holds that gateway's release."""

    model_config = ConfigDict(extra="forbid")
    name: str
    version: str
    profile: str | None = None
    display_name: str | None = None


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
    # Added in v1 without a version bump: optional for older documents, always written by build_matrix.
    providers_detail: dict[str, ProviderDetail] = Field(default_factory=dict)
    tiers: list[str] = Field(default_factory=list)
    # Added in v1 without a version bump: tier → its policy and the model it resolved to (written by build_matrix).
    tier_models: dict[str, TierModel] = Field(default_factory=dict)
    # Added in v1 without a version bump: optional for older documents, written by build_matrix when known.
    gateway_profile: GatewayProfileRecord | None = None
    # Added in v1 without a version bump: written by build_matrix when the run tested a local tree or wheel.
    litellm_source: LiteLLMSource | None = None
    # Added in v1 without a version bump: the gateway under test, written by build_matrix (absent: LiteLLM).
    gateway: GatewayRecord | None = None
    # Added in v1 without a version bump: {package: version} of the code that decided what the emulator accepted
    # (ccmatrix/strictness.py: anthropic, botocore, pydantic, ...), as the workers report it; absent when no column
    # was emulated or the workers predate the field.
    emulator_strictness: dict[str, str] | None = None
    features: list[FeatureRow]
    report: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _litellm_source(self) -> "Matrix":
        """A litellm_version that is a local source's spec always comes with its record (and only then)."""
        if self.litellm_source is None and (self.gateway is None or self.gateway.name == "litellm"):
            self.litellm_source = litellm_source(self.litellm_version)
        return self


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
    upstreams: dict[str, str] | None = None,
    gateway_profile: dict[str, Any] | None = None,
    tier_models: dict[str, dict[str, Any]] | None = None,
    gateway: dict[str, Any] | None = None,
    emulator_strictness: dict[str, str] | None = None,
) -> Matrix:
    """The matrix of a finished run; `upstreams` ({provider: emulator|real|mixed|unknown}) is what the callback
    derived with `column_upstreams` (derived here from the cells' `upstream` when not given); `gateway_profile`
    ({name, settings}) likewise from `run_gateway_profile` (derived here from the cells when not given);
    `tier_models` (tier → {policy, requested, model, ...}) is the plan's record (the manifest's tiers when not given).
    `manifest` is the run's concrete manifest: each column's models per tier come from it. `gateway` ({name, version,
    profile[, display_name]}): the gateway under test (LiteLLM at `litellm_version` when not given).
    `emulator_strictness` is derived from the cells when not given (workers that disagree: report["problems"])."""
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
    if upstreams is None:
        upstreams, _ = column_upstreams(cells, selection.providers)
    if gateway_profile is None:
        gateway_profile, _ = run_gateway_profile(cells)
    report = dict(report or {})
    if emulator_strictness is None:
        emulator_strictness, disagreement = run_strictness(cells)
        if disagreement:
            report["problems"] = [*report.get("problems", []), *disagreement]
    names = {p: manifest.provider(p).name for p in selection.providers}
    if tier_models is None:
        tier_models = {t: {"model": manifest.tiers[t]} for t in selection.tiers}

    def column_models(provider_id: str) -> dict[str, str | None] | None:
        models = manifest.provider(provider_id).models
        return None if models is None else {t: models.get(t) for t in selection.tiers if t in models}
    return Matrix(
        generated_at=generated_at or datetime.now(timezone.utc),
        run_id=run_id,
        litellm_version=litellm_version,
        claude_code_version=claude_code_version,
        providers=list(selection.providers),
        provider_names=names,
        providers_detail={p: ProviderDetail(upstream=upstreams.get(p, "unknown"), name=names[p],
                                            models=column_models(p))
                          for p in selection.providers},
        tiers=list(selection.tiers),
        tier_models={t: TierModel(**tier_models[t]) for t in selection.tiers if t in tier_models},
        gateway_profile=(GatewayProfileRecord(name=gateway_profile["name"],
                                              settings=gateway_profile.get("settings") or {})
                         if gateway_profile else None),
        gateway=GatewayRecord(**(gateway or {"name": "litellm", "version": litellm_version,
                                              "profile": (gateway_profile or {}).get("name")})),
        emulator_strictness=emulator_strictness,
        features=rows,
        report=report,
    )


def column_upstreams(cells: Iterable[CellResult], providers: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    """How each provider column ran, from its cells' `upstream` ("emulator" | "real"), and the problems found.

    Every cell of a column should agree. Cells that disagree make the column "mixed"; a cell that did not say
    (no `upstream`, e.g. a worker older than the field) makes it "unknown" — the page never claims a column was
    emulated (or real) on partial evidence. Both are named in the returned problems (for report.problems).
    """
    cells = list(cells)
    upstreams: dict[str, str] = {}
    problems: list[str] = []
    for provider in providers:
        column = [c for c in cells if c.provider == provider]
        said = Counter(getattr(c, "upstream", None) for c in column)
        silent = sorted(c.feature for c in column if getattr(c, "upstream", None) is None)
        known = {u: n for u, n in said.items() if u is not None}
        if len(known) > 1:
            upstreams[provider] = "mixed"
            problems.append(f"provider {provider}: its cells ran against different upstreams {dict(sorted(known.items()))}"
                            + (f" and {len(silent)} did not say" if silent else ""))
        elif silent:
            upstreams[provider] = "unknown"
            if column:
                problems.append(f"provider {provider}: {len(silent)} of {len(column)} cell(s) did not report their "
                                f"upstream ({', '.join(silent[:5])}{', ...' if len(silent) > 5 else ''})")
        elif known:
            value = next(iter(known))
            if value not in ("emulator", "real"):
                upstreams[provider] = "unknown"
                problems.append(f"provider {provider}: its cells report an unknown upstream {value!r}")
            else:
                upstreams[provider] = value
        else:
            upstreams[provider] = "unknown"  # no cell at all: build_matrix refuses such a matrix anyway
    return upstreams, problems


def run_gateway_profile(cells: Iterable[CellResult], requested: dict[str, Any] | None = None
                        ) -> tuple[dict[str, Any] | None, list[str]]:
    """The gateway profile ({name, settings}) the run's cells say their proxy ran with, and the problems found.

    Every cell should report the same one, the one the run asked for (`requested`, from the plan). Cells that
    disagree, cells that did not say (a worker older than the field) and a profile other than the requested one
    are named in the problems (for report.problems); the most common report wins, else the requested profile.
    """
    cells = list(cells)
    said = Counter(json.dumps(c.gateway_profile, sort_keys=True) for c in cells
                   if getattr(c, "gateway_profile", None))
    silent = sum(1 for c in cells if not getattr(c, "gateway_profile", None))
    problems: list[str] = []
    if len(said) > 1:
        names = Counter(json.loads(k)["name"] for k in said.elements())
        problems.append(f"cells ran with different gateway profiles: {dict(sorted(names.items()))}")
    if silent and cells and (said or requested):
        problems.append(f"{silent} of {len(cells)} cell(s) did not report their gateway profile")
    profile = json.loads(said.most_common(1)[0][0]) if said else requested
    if profile and requested and profile != requested:
        problems.append(f"gateway profile: requested {requested.get('name')!r} {requested.get('settings')}, "
                        f"the workers ran {profile.get('name')!r} {profile.get('settings')}")
    return profile, problems


def cause_report(cells: Iterable[CellResult]) -> dict[str, Any]:
    """The run report's attribution: `causes` counts the tiers that did not pass (fail, error, not_tested) by
    cause — every cause is listed, "unattributed" only when a tier had none — and `emulator_gaps` lists every
    tier the emulator could not judge ({feature, provider, tier, reason}; empty when none)."""
    causes: Counter[str] = Counter({c: 0 for c in CAUSES})
    gaps: list[dict[str, str]] = []
    for cell in cells:
        for tier, result in cell.tiers.items():
            if result.status in (Status.PASS, Status.NOT_APPLICABLE):
                continue
            causes[result.cause or "unattributed"] += 1
            if result.cause == "emulator_gap":
                calls = result.evidence.upstream_calls if result.evidence else []
                emulator = next((c.reason for c in reversed(calls) if c.cause == "emulator_gap" and c.reason), None)
                gaps.append({"feature": cell.feature, "provider": cell.provider, "tier": tier,
                             "reason": result.error or result.reason or emulator or "the emulator could not judge it"})
    return {"causes": dict(causes), "emulator_gaps": gaps}


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
