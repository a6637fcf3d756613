"""The known-bug corpus: one YAML file per public gateway bug, each with its reference, cell and releases.

A case is only as useful as it is verifiable, so the loader refuses one that has no public reference (an issue or
pull request URL on github.com whose kind, repository and number agree with the other fields) or no releases (at
least one buggy release and a fixed release or "open"). Feature, provider and tiers must be ids of the manifest.
Every refusal is one line: `<file>: <field>: <what is wrong>`.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ccmatrix.manifest import VERSION_PATTERN, Manifest, load_manifest

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent / "corpus"

# The era a case runs in when it does not name its own (`ccmatrix corpus run`): the Claude Code version of a case
# that names none (`claude_code: unknown`), by the date of its newest buggy LiteLLM release (the one it runs), and the model of each tier
# a case does not name in `models`. A case runs at the era of its bug, never at the manifest's `latest` pins: a CLI
# months newer than the gateway sends bodies and betas the buggy release never saw (measured: Claude Code 2.1.197 at
# LiteLLM 1.81.3 sends context_management, which that release forwards to Bedrock Invoke without its beta, so every
# tier is refused for a reason the case is not about). Eras, from PyPI / npm publication dates (read 2026-11-29):
#   LiteLLM < 1.83 (2025-10 … 2026-03; 1.81.0 2026-01-18): Claude Code 2.1.23 — the version issue #19984 reported
#     with LiteLLM 1.81.0 in 2026-01 (the oldest CLI here; the 2025 cases, 1.77.7 / 1.79.3, run with it too);
#   1.83 … 1.89 (1.83.3 2026-04-05 … 1.85.0 2026-05-17): 2.1.126 (npm 2026-05-01);
#   1.90 and later (1.90.0 2026-06-27 …): 2.1.197 (npm 2026-06-30; the pair the acceptance bisect pins).
# Tiers: the Claude 4.5 models users ran Claude Code with then; a case about a newer model's behaviour names it.
CLAUDE_CODE_ERAS: tuple[tuple[tuple[int, int, int], str], ...] = (
    ((0, 0, 0), "2.1.23"),
    ((1, 83, 0), "2.1.126"),
    ((1, 90, 0), "2.1.197"),
)
ERA_CLAUDE_CODE = "2.1.197"  # the newest era's; also where a CLI without a model table borrows the columns' ids


def era_claude_code(litellm_release: str) -> str:
    """The Claude Code version of the era of a LiteLLM release (CLAUDE_CODE_ERAS)."""
    key = version_key(litellm_release)
    return [claude for start, claude in CLAUDE_CODE_ERAS if start <= key][-1]


ERA_MODELS = {"haiku": "claude-haiku-4-5", "sonnet": "claude-sonnet-4-5", "opus": "claude-opus-4-5"}

ID_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
URL_PATTERN = re.compile(r"^https://github\.com/(?P<repo>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)/(?P<path>issues|pull)/"
                         r"(?P<number>[1-9][0-9]*)$")
PATH_OF_KIND = {"issue": "issues", "pr": "pull"}


class CorpusError(ValueError):
    """A corpus file is wrong; the message is one line naming the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _version(value: str) -> str:
    if not isinstance(value, str) or not VERSION_PATTERN.match(value):
        raise ValueError(f"{value!r} is not a release like 1.2.3")
    return value


def version_key(value: str) -> tuple[int, int, int]:
    """The numeric release (major, minor, patch) of a version string, pre-release tags ignored."""
    major, minor, patch = re.match(r"^(\d+)\.(\d+)\.(\d+)", value).groups()
    return int(major), int(minor), int(patch)


class Link(_Strict):
    """A public issue or pull request."""

    kind: Literal["issue", "pr"]
    number: int = Field(gt=0)
    url: str
    repo: str | None = None

    @model_validator(mode="after")
    def _url_agrees(self) -> "Link":
        match = URL_PATTERN.match(self.url)
        if not match:
            raise ValueError(f"url {self.url!r} is not https://github.com/<owner>/<repo>/(issues|pull)/<number>")
        if match["path"] != PATH_OF_KIND[self.kind]:
            raise ValueError(f"url {self.url!r} is not a {self.kind} (kind {self.kind!r} wants /{PATH_OF_KIND[self.kind]}/)")
        if int(match["number"]) != self.number:
            raise ValueError(f"url {self.url!r} does not end in the number {self.number}")
        if self.repo is not None and match["repo"] != self.repo:
            raise ValueError(f"url {self.url!r} is not in repo {self.repo!r}")
        return self


class Reference(Link):
    repo: str = Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


class Cell(_Strict):
    """Where the matrix shows the bug: manifest ids, checked against the manifest by load_corpus."""

    feature: str
    provider: str
    tiers: list[str] = Field(min_length=1)


class Case(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    title: str = Field(min_length=1)
    reference: Reference
    also: list[Link] = Field(default_factory=list)
    symptom: str = Field(min_length=1)
    cell: Cell
    gateway: Literal["litellm"]
    buggy: list[str] = Field(min_length=1)
    fixed: str
    claude_code: str
    provider_behaviour: str = Field(min_length=1)
    assertion_hint: str = Field(min_length=1)
    # Texts that identify this bug in a red cell (`ccmatrix corpus run`): any of them, as a case-insensitive substring
    # of a failed tier's assertion, error, gateway response or upstream refusal. Empty: any red tier counts (the
    # report says the match was not checked).
    match: list[str] = Field(default_factory=list)
    confidence: Literal["high", "medium", "low"]
    confidence_note: str | None = None
    # Optional, for `ccmatrix corpus run`: the model of a tier of the cell when the bug needs another than the era's
    # (ERA_MODELS), e.g. {opus: claude-opus-4-7}; and the gateway profile (gateway_profiles/litellm.yaml) the bug was
    # reported with when it is not the run's default.
    models: dict[str, str] = Field(default_factory=dict)
    gateway_profile: str | None = None

    @field_validator("buggy")
    @classmethod
    def _buggy_releases(cls, value: list[str]) -> list[str]:
        for item in value:
            _version(item)
        if len(set(value)) != len(value):
            raise ValueError("a release is listed twice")
        return value

    @field_validator("match")
    @classmethod
    def _match_texts(cls, value: list[str]) -> list[str]:
        if any(not isinstance(item, str) or not item.strip() for item in value):
            raise ValueError("an empty match text")
        return value

    @field_validator("models")
    @classmethod
    def _models(cls, value: dict[str, str]) -> dict[str, str]:
        wrong = [m for m in value.values() if not isinstance(m, str) or not m.startswith("claude-")]
        if wrong:
            raise ValueError(f"{wrong} are not Claude model ids (claude-...)")
        return value

    @field_validator("fixed")
    @classmethod
    def _fixed_release(cls, value: str) -> str:
        return value if value == "open" else _version(value)

    @field_validator("claude_code")
    @classmethod
    def _claude_code(cls, value: str) -> str:
        return value if value == "unknown" else _version(value)

    @model_validator(mode="after")
    def _consistent(self) -> "Case":
        if self.fixed != "open":
            later = [v for v in self.buggy if version_key(v) >= version_key(self.fixed)]
            if later:
                raise ValueError(f"fixed: {self.fixed} is not later than buggy release(s) {later}")
        if self.confidence != "high" and not (self.confidence_note or "").strip():
            raise ValueError(f"confidence_note: required when confidence is {self.confidence!r} (say why)")
        extra = [t for t in self.models if t not in self.cell.tiers]
        if extra:
            raise ValueError(f"models: {extra} not tiers of the cell ({self.cell.tiers})")
        return self

    @property
    def is_open(self) -> bool:
        return self.fixed == "open"

    @property
    def last_buggy(self) -> str:
        """The newest release reported with the bug: the one `ccmatrix corpus run` runs, the tightest bracket around
        the fix (fewer other changes between it and `fixed` that could turn the cell red or green for another reason
        than this bug's)."""
        return max(self.buggy, key=version_key)

    @property
    def run_claude_code(self) -> str:
        """The Claude Code version the case runs at (both releases): its own, else the era's of the release it runs."""
        return era_claude_code(self.last_buggy) if self.claude_code == "unknown" else self.claude_code

    @property
    def run_models(self) -> dict[str, str]:
        """tier → model for every tier (explicit ids, so no `latest` is resolved): the case's, else the era's."""
        return {**ERA_MODELS, **self.models}


def _where(error: ValidationError) -> str:
    item = error.errors()[0]
    where = ".".join(str(part) for part in item["loc"])
    message = item["msg"].removeprefix("Value error, ")
    if item["type"] == "missing":
        message = "required (a case needs a public reference and its releases)" \
            if where in ("reference", "buggy", "fixed") else "required"
    message = " ".join(message.split())  # one line, whatever pydantic says
    return f"{where}: {message}" if where else message


def parse_case(data: object, source: str, manifest: Manifest | None = None) -> Case:
    """Validate one case (already parsed YAML); `source` names it in the error. Checks the cell against the manifest."""
    if not isinstance(data, dict):
        raise CorpusError(f"{source}: the top level must be a mapping, got {type(data).__name__}")
    try:
        case = Case.model_validate(data)
    except ValidationError as error:
        raise CorpusError(f"{source}: {_where(error)}") from None
    manifest = manifest or load_manifest()
    features = {f.id: f for f in manifest.features}
    providers = [p.id for p in manifest.providers]
    if case.cell.feature not in features:
        raise CorpusError(f"{source}: cell.feature: unknown feature {case.cell.feature!r}; "
                          f"the manifest has {sorted(features)}")
    if case.cell.provider not in providers:
        raise CorpusError(f"{source}: cell.provider: unknown provider {case.cell.provider!r}; "
                          f"the manifest has {providers}")
    allowed = manifest.feature_tiers(features[case.cell.feature])
    wrong = [t for t in case.cell.tiers if t not in allowed]
    if wrong:
        raise CorpusError(f"{source}: cell.tiers: {wrong} not tiers of {case.cell.feature!r} (it has {allowed})")
    if case.gateway_profile is not None:
        from ccmatrix.gateway_profiles import load_profiles

        known = sorted(load_profiles().profiles)
        if case.gateway_profile not in known:
            raise CorpusError(f"{source}: gateway_profile: unknown profile {case.gateway_profile!r}; "
                              f"gateway_profiles/litellm.yaml has {known}")
    return case


def load_case(path: str | Path, manifest: Manifest | None = None) -> Case:
    path = Path(path)
    source = path.name
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as error:
        raise CorpusError(f"{source}: cannot read: {error.strerror}") from None
    except yaml.YAMLError as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CorpusError(f"{source}: not valid YAML: {first}") from None
    case = parse_case(data, source, manifest)
    if case.id != path.stem:
        raise CorpusError(f"{source}: id: {case.id!r} does not match the file name {path.stem!r}")
    return case


def load_corpus(directory: str | Path | None = None, manifest: Manifest | None = None) -> list[Case]:
    """Every `*.yaml` case under `directory` (default: the repository's corpus/), in file-name (= id) order."""
    directory = Path(directory or DEFAULT_CORPUS)
    if not directory.is_dir():
        raise CorpusError(f"{directory}: not a directory")
    manifest = manifest or load_manifest()
    # ids equal file names, so they are unique within the directory
    return [load_case(path, manifest) for path in sorted(directory.glob("*.yaml"))]
