"""Expected differences: the documented, reviewed list of differences that are not regressions.

File format (``expected_differences.yaml`` at the top of the repository)::

    rules:
      - id: converse-no-metadata                # unique
        provider: bedrock_converse              # a provider id, a list of them, or "*"
        tier: sonnet                            # optional: a tier or a list of tiers
        gateway: ">=1.80,<1.100"                # optional: LiteLLM version range (PEP 440 specifiers)
        path: metadata.user_id                  # a record path; [*] matches any index or key,
                                                # a segment "*" any key; matches the path or a prefix of it
        kinds: [lost]                           # lost | added | changed
        value_contains: "x-anthropic-billing"   # optional: the record's before/after must contain this text
        class: by-design                        # by-design | gateway-bug | emulator-gap
        reason: Converse has no metadata field  # required, non-empty
        ref: https://...                        # optional

A record path of a multi-turn run is prefixed (``turn[2].``, ``count_tokens[0].``); a rule path that does not
start with such a prefix matches any turn. The first matching rule (file order) wins.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Iterable, Literal

import yaml
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .diff import DiffRecord

DEFAULT_RULES_PATH = Path(__file__).resolve().parent.parent / "expected_differences.yaml"

_TURN_PREFIX = re.compile(r"^(?:turn|count_tokens)\[\d+\]\.")
_RULE_PREFIX = re.compile(r"^(?:turn|count_tokens)\[(?:\d+|\*)\]\.")  # a rule may name "count_tokens[*]."


class RulesError(ValueError):
    """The expected-differences file is refused."""


def _as_list(v: Any) -> list[str] | None:
    if v is None:
        return None
    if isinstance(v, str):
        return [v]
    return [str(x) for x in v]


def compile_path(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("[*]", i):
            out.append(r"\[[^\]]*\]")
            i += 3
        elif pattern[i] == "*" and (i == 0 or pattern[i - 1] == ".") and (i + 1 == len(pattern) or pattern[i + 1] in ".["):
            out.append(r"[^.\[\]]+")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("^" + "".join(out) + r"(?=$|[.\[])")


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str
    provider: list[str]
    tier: list[str] | None = None
    gateway: str | None = None
    path: str
    kinds: list[Literal["lost", "added", "changed"]]
    value_contains: str | None = None
    class_: Literal["by-design", "gateway-bug", "emulator-gap"] = Field(alias="class")
    reason: str
    ref: str | None = None

    @field_validator("provider", "tier", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return _as_list(v)

    @field_validator("id", "path", "reason")
    @classmethod
    def _non_empty(cls, v: str) -> str:
        if not isinstance(v, str) or not v.strip():
            raise ValueError("must be a non-empty string")
        return v.strip()

    @field_validator("gateway")
    @classmethod
    def _spec(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            SpecifierSet(v)
        except InvalidSpecifier as e:
            raise ValueError(f"not a version range: {v!r}") from e
        return v

    @model_validator(mode="after")
    def _kinds(self) -> "Rule":
        if not self.kinds:
            raise ValueError("kinds must name at least one of lost, added, changed")
        if not self.provider:
            raise ValueError("provider must name a provider, a list of providers, or '*'")
        return self

    # ---------------------------------------------------------------- matching
    def applies_to(self, provider: str, tier: str | None, litellm_version: str | None) -> bool:
        if "*" not in self.provider and provider not in self.provider:
            return False
        if self.tier is not None and "*" not in self.tier and tier not in self.tier:
            return False
        if self.gateway:
            if not litellm_version:
                return False
            try:
                if Version(litellm_version) not in SpecifierSet(self.gateway):
                    return False
            except InvalidVersion:
                return False
        return True

    def matches(self, record: DiffRecord) -> bool:
        if record.kind not in self.kinds:
            return False
        path = record.path
        if not _RULE_PREFIX.match(self.path):
            path = _TURN_PREFIX.sub("", path)
        if not compile_path(self.path).match(path):
            return False
        if self.value_contains is not None:
            text = json.dumps([record.before, record.after], ensure_ascii=False)
            if self.value_contains not in text:
                return False
        return True


class RuleSet(BaseModel):
    rules: list[Rule] = Field(default_factory=list)
    source: str | None = None

    @model_validator(mode="after")
    def _unique(self) -> "RuleSet":
        seen: set[str] = set()
        for r in self.rules:
            if r.id in seen:
                raise ValueError(f"duplicate rule id {r.id!r}")
            seen.add(r.id)
        return self

    @classmethod
    def load(cls, path: str | Path | None = None) -> "RuleSet":
        if path is None:
            path = os.environ.get("CCMATRIX_FIDELITY_RULES") or DEFAULT_RULES_PATH
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as e:
            raise RulesError(f"{p}: {e}") from e
        return cls.from_yaml(text, source=str(p))

    @classmethod
    def from_yaml(cls, text: str, source: str | None = None) -> "RuleSet":
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as e:
            raise RulesError(f"{source or 'rules'}: not YAML: {e}") from e
        if isinstance(data, list):
            data = {"rules": data}
        if not isinstance(data, dict) or not isinstance(data.get("rules", []), list):
            raise RulesError(f"{source or 'rules'}: expected a mapping with a 'rules' list")
        errors = []
        for i, r in enumerate(data.get("rules") or []):
            rid = r.get("id") if isinstance(r, dict) else None
            try:
                Rule.model_validate(r)
            except ValidationError as e:
                msgs = "; ".join(f"{'.'.join(str(x) for x in err['loc']) or 'rule'}: {err['msg']}" for err in e.errors())
                errors.append(f"rule #{i} ({rid or 'no id'}): {msgs}")
        if errors:
            raise RulesError(f"{source or 'rules'} refused: " + " | ".join(errors))
        try:
            return cls(rules=data.get("rules") or [], source=source)
        except ValidationError as e:
            raise RulesError(f"{source or 'rules'} refused: {e}") from e

    def ids(self) -> list[str]:
        return [r.id for r in self.rules]

    def apply(
        self,
        records: Iterable[DiffRecord],
        provider: str,
        tier: str | None = None,
        litellm_version: str | None = None,
    ) -> list[DiffRecord]:
        """Records with status/rule/reason set: ``expected`` when a rule covers them, else ``unexpected``.
        A record that already carries a rule (a built-in check) is left alone."""
        active = [r for r in self.rules if r.applies_to(provider, tier, litellm_version)]
        out = []
        for rec in records:
            if rec.rule is not None:
                out.append(rec)
                continue
            hit = next((r for r in active if r.matches(rec)), None)
            if hit is None:
                out.append(rec.model_copy(update={"status": "unexpected", "rule": None, "reason": None, "rule_class": None}))
            else:
                out.append(rec.model_copy(update={"status": "expected", "rule": hit.id, "reason": hit.reason, "rule_class": hit.class_}))
        return out

    def stale(self, matched_rule_ids: set[str], providers: Iterable[str] | None = None) -> list[str]:
        """Rules that matched nothing in a run. With ``providers``, only rules that could apply to one of the
        providers that were run are considered (a rule for a column that was not run is not stale)."""
        provs = set(providers) if providers is not None else None
        out = []
        for r in self.rules:
            if r.id in matched_rule_ids:
                continue
            if provs is not None and "*" not in r.provider and not (provs & set(r.provider)):
                continue
            out.append(r.id)
        return out
