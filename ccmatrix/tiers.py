"""Tier models: the manifest's tiers made concrete for the Claude Code version under test, once, when a run is planned.

A manifest names each tier by family (`haiku`, `sonnet`, `opus`, ...) with a policy or an explicit id:

    tiers:
      haiku: latest                      # the newest model of the family this CLI version knows
      sonnet: alias                      # what the CLI's own `sonnet` alias resolves to for the column's client
      opus: claude-opus-4-5-20251101     # an explicit Claude API id (as before)

and each column (`providers[]`) may give `models: {tier: provider id}` (explicit ids win) or omit it: its ids are
then read from the CLI's own model table (ccmatrix/model_table.py) under the column's provider kind
(`Provider.model_table_kind`). `alias` resolves per client mode (`Provider.alias_kind`: `gateway` when the CLI
speaks the Anthropic API to the gateway, the native kind for a pass-through column), so a column may test another
model than the manifest's tier; that column then carries it in `api_models`. A model the table says the column's
provider does not offer is a null model with its reason in `not_offered`: the worker reports that tier
not_applicable. `--tier-models tier=ID,...` (`overrides`) replaces tiers for one run.

`resolve` returns the concrete manifest every CellJob carries (tiers → Claude API ids, providers[].models → ids or
null) and a record of each tier (policy, requested, model, source) for the matrix. The table is needed only when a
policy, a column without models or an override asks for it (`needs_table`); explicit ids everywhere need none.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ccmatrix.manifest import TIER_POLICIES, Manifest, ManifestError, parse_manifest
from ccmatrix.model_table import Model, ModelTable, ModelTableError

GATEWAY_KIND = "gateway"  # the model table's kind for a client at an LLM gateway: the manifest tier's own alias


@dataclass
class Resolution:
    manifest: Manifest  # concrete: no policy left, every column has a model (or a null with its reason) per tier
    tiers: dict[str, dict[str, Any]] = field(default_factory=dict)  # tier → {policy, requested, model, source, ...}


def parse_overrides(items: list[str] | None) -> dict[str, str] | None:
    """`["haiku=ID", "sonnet=ID"]` → {"haiku": "ID", ...}; a malformed item raises ValueError (one line)."""
    if not items:
        return None
    out: dict[str, str] = {}
    for item in items:
        tier, sep, model = item.partition("=")
        tier, model = tier.strip(), model.strip()
        if not sep or not tier or not model:
            raise ValueError(f"--tier-models: {item!r} is not TIER=MODEL (e.g. sonnet=claude-sonnet-4-5-20250929)")
        if tier in out:
            raise ValueError(f"--tier-models: tier {tier!r} is given twice")
        out[tier] = model
    return out


def check_overrides(manifest: Manifest, overrides: dict[str, str] | None) -> dict[str, str]:
    overrides = dict(overrides or {})
    unknown = [t for t in overrides if t not in manifest.tiers]
    if unknown:
        raise ManifestError(f"--tier-models: unknown tier(s) {unknown}; the manifest has {list(manifest.tiers)}")
    for tier, model in overrides.items():
        if model not in TIER_POLICIES and not model.startswith("claude-"):
            raise ManifestError(f"--tier-models: {tier}={model!r} is not a Claude model id (claude-...) nor a "
                                f"policy ({', '.join(TIER_POLICIES)})")
    return overrides


def _overridden(manifest: Manifest, overrides: dict[str, str], tier: str) -> bool:
    return tier in overrides and overrides[tier] != manifest.tiers[tier]


def needs_table(manifest: Manifest, overrides: dict[str, str] | None = None) -> bool:
    """True when resolving needs the CLI's model table: a tier named by policy, a column without a model for a
    tier, or an override naming another model than the manifest's (its per-column ids come from the table)."""
    overrides = check_overrides(manifest, overrides)
    return bool(manifest.unresolved()) or any(_overridden(manifest, overrides, t) for t in manifest.tiers)


def find_model(table: ModelTable, model_id: str) -> Model | None:
    """The table's model named `model_id`: its table id (claude-sonnet-4-5) or its Claude API id
    (claude-sonnet-4-5-20250929, the first-party or gateway id)."""
    if model_id in table.models:
        return table.models[model_id]
    for model in table.models.values():
        if model_id in (model.provider_ids.get("first_party"), model.provider_ids.get(GATEWAY_KIND)):
            return model
    return None


def api_id(model: Model) -> str:
    """The Claude API id of a table model (its first-party id)."""
    return model.provider_ids.get("first_party") or model.id


def not_offered_reason(claude_code_version: str, model: str, kind: str) -> str:
    return f"Claude Code {claude_code_version}'s model table: {model} is not offered on {kind}"


def resolve(manifest: Manifest, claude_code_version: str, table: ModelTable | None = None,
            overrides: dict[str, str] | None = None) -> Resolution:
    """The concrete manifest for a run of `claude_code_version` (whose model table is `table`; None when
    `needs_table` says none is needed). Raises ManifestError (one line, the tier and column named) for an unknown
    family, a model the table does not have where a column needs it, or a missing table."""
    from providers import registry

    overrides = check_overrides(manifest, overrides)
    if table is None and needs_table(manifest, overrides):
        raise ManifestError(f"resolving {'; '.join(manifest.unresolved()) or '--tier-models'} needs Claude Code "
                            f"{claude_code_version}'s model table")
    where = f"Claude Code {claude_code_version}'s model table"

    def ask(what: str, call, *args):
        try:
            return call(*args)
        except ModelTableError as error:
            raise ManifestError(f"{what}: {error} ({where})") from None

    tiers: dict[str, str] = {}
    record: dict[str, dict[str, Any]] = {}
    # per tier: the table's model for the manifest tier (None when the id is not in the table or no table)
    top_models: dict[str, Model | None] = {}
    for tier, declared in manifest.tiers.items():
        spec = overrides.get(tier, declared)
        label = f"--tier-models {tier}" if tier in overrides else f"tiers.{tier}"
        if spec == "latest":
            if tier not in table.families() and any(m.family == tier for m in table.models.values()):
                raise ManifestError(f"{label}: latest: {where} has models of the {tier} family but names no latest "
                                    f"one (latest_per_family: {table.families()}); name the model explicitly")
            model = ask(f"{label}: latest", table.model, ask(f"{label}: latest", table.latest, tier))
        elif spec == "alias":
            model = ask(f"{label}: alias", table.model, ask(f"{label}: alias", table.alias, tier, GATEWAY_KIND))
        else:
            model = find_model(table, spec) if table is not None else None
        top_models[tier] = model
        tiers[tier] = api_id(model) if spec in TIER_POLICIES else spec  # explicit ids stay as written
        record[tier] = {"policy": spec if spec in TIER_POLICIES else "explicit", "requested": spec,
                        "model": tiers[tier], "source": "--tier-models" if tier in overrides else "manifest"}
        if model is not None:
            record[tier]["model_table"] = claude_code_version
            record[tier]["table_model"] = model.id

    providers = []
    for provider in manifest.providers:
        package = registry.get(provider.route)
        kind, alias_kind = package.model_table_kind, package.alias_kind
        models: dict[str, str | None] = {}
        not_offered: dict[str, str] = {}
        api_models: dict[str, str] = {}
        for tier in manifest.tiers:
            spec = overrides.get(tier, manifest.tiers[tier])
            given = provider.models is not None and tier in provider.models
            model = top_models[tier]
            if given and (not _overridden(manifest, overrides, tier) or model is None):
                # explicit ids win; an override whose model the table does not have falls back on them
                models[tier] = provider.models[tier]
                if tier in provider.not_offered:
                    not_offered[tier] = provider.not_offered[tier]
                if tier in provider.api_models:
                    api_models[tier] = provider.api_models[tier]
                continue
            if spec == "alias":
                model = ask(f"tiers.{tier}: alias for providers.{provider.id} ({alias_kind})", table.model,
                            ask(f"tiers.{tier}: alias", table.alias, tier, alias_kind))
                if api_id(model) != tiers[tier]:
                    api_models[tier] = api_id(model)
            if model is None:
                label = f"--tier-models {tier}={spec}" if tier in overrides else f"tiers.{tier}: {spec}"
                raise ManifestError(f"{label}: {where} has no {spec!r} and providers.{provider.id} names no model "
                                    f"for {tier} in the manifest (give its `models`)"
                                    if table is not None else
                                    f"{label}: providers.{provider.id} names no model for {tier}")
            models[tier] = model.provider_ids.get(kind)
            if models[tier] is None:
                not_offered[tier] = not_offered_reason(claude_code_version, model.id, kind)
        providers.append({**provider.model_dump(mode="json", exclude_none=True), "models": models,
                          "not_offered": not_offered, "api_models": api_models})
    data = {**manifest.model_dump(mode="json", exclude_none=True), "tiers": tiers, "providers": providers}
    concrete = parse_manifest(data, f"the manifest resolved for Claude Code {claude_code_version}")
    return Resolution(manifest=concrete, tiers=record)


def column_models(manifest: Manifest, provider_id: str, tiers: list[str] | None = None) -> dict[str, str | None]:
    """tier → the model id a column of a concrete manifest tests (None: not offered there)."""
    return {t: manifest.provider_model(t, provider_id) for t in (tiers if tiers is not None else manifest.tiers)}
