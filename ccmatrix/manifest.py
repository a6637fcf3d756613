"""The manifest: feature rows, provider columns and model tiers, validated before anything runs."""
from __future__ import annotations

import importlib.util
import pkgutil
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DEFAULT_MANIFEST = Path(__file__).resolve().parent.parent / "manifest.yaml"

ID_PATTERN = r"^[a-z][a-z0-9_]*$"
# A tier's model: one of these policies, resolved from the CLI's own model table when a run is planned
# (ccmatrix/tiers.py), or an explicit Claude API id. `latest`: the newest model of the tier's family the CLI
# version knows; `alias`: what the CLI's own alias for the family resolves to for the column's client.
TIER_POLICIES = ("latest", "alias")
VERSION_PATTERN = re.compile(r"^\d+\.\d+\.\d+([.-]?[A-Za-z0-9.]+)?$")


class ManifestError(ValueError):
    """The manifest is wrong; the message names the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Provider(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1)
    route: str  # a provider package: providers/<route>/
    # tier → the id the provider knows the tier's model by; null: the provider does not offer it (the tier is then
    # not_applicable on this column, with the reason in `not_offered`). Omitted: derived from the CLI's model table
    # when the run is planned (ccmatrix/tiers.py); explicit ids win over derivation.
    models: dict[str, str | None] | None = None
    # tier → why the column's model for it is null (written by the planner from the model table, or by hand).
    not_offered: dict[str, str] = Field(default_factory=dict)
    # tier → the Claude API id this column's tier tests, where it differs from the manifest's `tiers` (the `alias`
    # policy resolves per client mode). Written by the planner; the proxy alias is named after it.
    api_models: dict[str, str] = Field(default_factory=dict)

    @field_validator("route")
    @classmethod
    def _known_route(cls, value: str) -> str:
        from providers import registry

        if value not in registry.ids():
            raise ValueError(f"unknown route {value!r}; known: {', '.join(registry.ids())} (providers/<route>/)")
        return value


class Feature(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1)
    check: str = Field(pattern=ID_PATTERN)
    tiers: list[str] | None = None
    not_applicable: dict[str, str] = Field(default_factory=dict)
    description: str | None = None

    @field_validator("not_applicable")
    @classmethod
    def _reasons_not_empty(cls, value: dict[str, str]) -> dict[str, str]:
        for provider, reason in value.items():
            if not str(reason).strip():
                raise ValueError(f"not_applicable for {provider!r} needs a reason")
        return value


class Manifest(_Strict):
    schema_version: Literal["1"]
    claude_code_version: str
    litellm_version: str
    tiers: dict[str, str]
    providers: list[Provider] = Field(min_length=1)
    features: list[Feature] = Field(min_length=1)

    @field_validator("claude_code_version", "litellm_version")
    @classmethod
    def _pinned(cls, value: str) -> str:
        if value != "latest" and not VERSION_PATTERN.match(value):
            raise ValueError(f"must be an exact pinned version like 1.2.3, or latest, got {value!r}")
        return value

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError("at least one tier is required")
        for tier, model in value.items():
            if not re.match(ID_PATTERN, tier):
                raise ValueError(f"tier name {tier!r} must match {ID_PATTERN}")
            if model not in TIER_POLICIES and not str(model).startswith("claude-"):
                raise ValueError(f"tier {tier!r}: {model!r} must be a policy ({', '.join(TIER_POLICIES)}) or a real "
                                 f"Claude model id (claude-...)")
        return value

    @model_validator(mode="after")
    def _cross_references(self) -> "Manifest":
        for kind, items in (("providers", self.providers), ("features", self.features)):
            seen: set[str] = set()
            for index, item in enumerate(items):
                if item.id in seen:
                    raise ValueError(f"{kind}[{index}].id: duplicate id {item.id!r}")
                seen.add(item.id)
        tier_names = set(self.tiers)
        provider_ids = {p.id for p in self.providers}
        for index, provider in enumerate(self.providers):
            if provider.models is not None:
                missing = tier_names - set(provider.models)
                if missing:
                    raise ValueError(f"providers[{index}].models: missing tier(s) {sorted(missing)} for "
                                     f"{provider.id!r} (name every tier, or omit `models` to derive them)")
            for field in ("models", "not_offered", "api_models"):
                extra = set(getattr(provider, field) or {}) - tier_names
                if extra:
                    raise ValueError(f"providers[{index}].{field}: unknown tier(s) {sorted(extra)} for {provider.id!r}")
            for tier, model in (provider.models or {}).items():
                if model is None and not str(provider.not_offered.get(tier) or "").strip():
                    raise ValueError(f"providers[{index}].models.{tier}: null (not offered) needs a reason in "
                                     f"providers[{index}].not_offered.{tier}")
            for tier, model in provider.api_models.items():
                if not model.startswith("claude-"):
                    raise ValueError(f"providers[{index}].api_models.{tier}: {model!r} must be a Claude model id")
        checks = known_checks()  # the check modules on disk are the source of valid names
        for index, feature in enumerate(self.features):
            if feature.check not in checks:
                raise ValueError(
                    f"features[{index}].check: unknown check {feature.check!r} for {feature.id!r}; "
                    f"known: {sorted(checks)}"
                )
            for tier in feature.tiers or []:
                if tier not in tier_names:
                    raise ValueError(f"features[{index}].tiers: unknown tier {tier!r}")
            for provider in feature.not_applicable:
                if provider not in provider_ids:
                    raise ValueError(f"features[{index}].not_applicable: unknown provider {provider!r}")
        return self

    # --- lookups -------------------------------------------------------------------------------
    def provider(self, provider_id: str) -> Provider:
        for provider in self.providers:
            if provider.id == provider_id:
                return provider
        raise KeyError(provider_id)

    def feature(self, feature_id: str) -> Feature:
        for feature in self.features:
            if feature.id == feature_id:
                return feature
        raise KeyError(feature_id)

    def feature_tiers(self, feature: Feature) -> list[str]:
        return list(feature.tiers) if feature.tiers else list(self.tiers)

    # --- tier models (a concrete manifest: the planner resolved every policy, ccmatrix/tiers.py) ----------------
    def unresolved(self) -> list[str]:
        """What still needs the CLI's model table: tiers named by policy, columns without models for a tier."""
        out = [f"tiers.{t}: {m}" for t, m in self.tiers.items() if m in TIER_POLICIES]
        for provider in self.providers:
            missing = [t for t in self.tiers if t not in (provider.models or {})]
            if missing:
                out.append(f"providers.{provider.id}.models: {', '.join(missing)}")
        return out

    def provider_model(self, tier: str, provider_id: str) -> str | None:
        """The id the column's provider knows the tier's model by; None: not offered there (see not_offered)."""
        models = self.provider(provider_id).models
        if models is None or tier not in models:
            raise ManifestError(f"providers.{provider_id}.models.{tier} is not resolved: a run's manifest is made "
                                f"concrete when the run is planned (producer/plan.py)")
        return models[tier]

    def api_model(self, tier: str, provider_id: str) -> str:
        """The Claude API id the column's tier tests (what the CLI is told, via the proxy alias named after it)."""
        model = self.provider(provider_id).api_models.get(tier) or self.tiers[tier]
        if model in TIER_POLICIES:
            raise ManifestError(f"tiers.{tier}: {model!r} is not resolved: a run's manifest is made concrete when "
                                f"the run is planned (producer/plan.py)")
        return model

    def proxy_alias(self, tier: str, provider_id: str) -> str:
        """The proxy alias the CLI asks for on this column and tier (alias_for the tier's Claude API id)."""
        return alias_for(self.api_model(tier, provider_id), provider_id)

    def select(self, features: list[str] | None, providers: list[str] | None, tiers: list[str] | None) -> "Selection":
        """The cells of a run, refusing unknown names with a clear message."""
        for kind, wanted, known in (
            ("feature", features, [f.id for f in self.features]),
            ("provider", providers, [p.id for p in self.providers]),
            ("tier", tiers, list(self.tiers)),
        ):
            unknown = [w for w in wanted or [] if w not in known]
            if unknown:
                raise ManifestError(f"unknown {kind}(s) {unknown}; the manifest has {known}")
        return Selection(
            features=[f.id for f in self.features if not features or f.id in features],
            providers=[p.id for p in self.providers if not providers or p.id in providers],
            tiers=[t for t in self.tiers if not tiers or t in tiers],
        )


class Selection(BaseModel):
    features: list[str]
    providers: list[str]
    tiers: list[str]


CHECKS_PACKAGE = "worker.checks"  # a feature's `check` names a module there (one per row)


@lru_cache(maxsize=1)
def known_checks() -> frozenset[str]:
    """The check names a feature may use: the public modules of CHECKS_PACKAGE, found on disk without importing
    any worker code (the manifest stays data; the worker loads the module it names)."""
    spec = importlib.util.find_spec(CHECKS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(f"the check package {CHECKS_PACKAGE!r} is not installed")
    return frozenset(m.name for m in pkgutil.iter_modules(spec.submodule_search_locations)
                     if not m.name.startswith("_"))


def alias_for(model_id: str, provider_id: str) -> str:
    """The proxy alias for a tier on a provider: named after the real id so the CLI shapes its request as for it."""
    return f"{model_id}-{provider_id.replace('_', '-')}"


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"{where}: {message}" if where else message)
    return "; ".join(lines)


def parse_manifest(data: object, source: str = "manifest") -> Manifest:
    if not isinstance(data, dict):
        raise ManifestError(f"{source}: the top level must be a mapping, got {type(data).__name__}")
    try:
        return Manifest.model_validate(data)
    except ValidationError as error:
        raise ManifestError(f"{source} is invalid: {_describe(error)}") from None


def load_manifest(path: str | Path | None = None) -> Manifest:
    """Load and validate a manifest: `path`, else $CCMATRIX_MANIFEST_PATH, else the repository's manifest.yaml."""
    import os

    path = Path(path or os.environ.get("CCMATRIX_MANIFEST_PATH") or DEFAULT_MANIFEST)
    try:
        text = path.read_text()
    except OSError as error:
        raise ManifestError(f"cannot read manifest {path}: {error.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ManifestError(f"{path} is not valid YAML: {error}") from None
    return parse_manifest(data, str(path))
