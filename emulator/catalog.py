"""What the emulator knows exists, whatever the provider: the model catalogue (catalog.yaml: every model by name,
the platforms that serve it, and what it accepts — thinking modes, effort levels, context window, cacheable
prefix, ...) + the anthropic SDK's `Model` literal; beta flags and tool types (every provider profile + the SDK's
`AnthropicBetaParam` literal).

It splits "the provider refuses this" (known, but wrong here: cause refused) from "the emulator cannot judge this"
(never heard of: cause emulator_gap). Each provider writes a model id in its own shape (its package's
`model_id_shape`; platform.claude.com/docs/en/about-claude/models/model-ids-and-versions):
  api     (Anthropic, Azure AI Foundry; Vertex count-tokens bodies)  claude-sonnet-4-5-20250929, claude-sonnet-4-5
  bedrock  [geo.]anthropic.claude-sonnet-4-5-20250929-v1:0, an inference-profile / foundation-model ARN
  vertex   claude-sonnet-4-5@20250929, claude-sonnet-4-5, claude-sonnet-4-6 (dates always after `@`)
Each provider belongs to one platform of the catalogue (`platforms`: the CLI model table's provider keys); a
model's features are its entry, the catalogue's defaults, and the entry's overrides for that platform.
"""
from __future__ import annotations

import re
import typing
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from providers import registry

from . import profiles
from .errors import EmulatorError

PATH = Path(__file__).parent / "catalog.yaml"

# Bedrock model identifiers (Bedrock user guide "Supported foundation models" + "Inference profiles"): an optional
# geography prefix, `anthropic.`, the Claude API id, an optional `-v<n>[:<m>]` version.
BEDROCK_ID = re.compile(r"^(?:(?P<geo>us|eu|apac|global|jp|au|ca|us-gov)\.)?anthropic\.(?P<model>claude-[a-z0-9.-]+?)(?:-v\d+(?::\d+)?)?$")
BEDROCK_ARN = re.compile(r"^arn:aws(?:-[a-z]+)?:bedrock:[a-z0-9-]+:\d{12}:(?:inference-profile|application-inference-profile|foundation-model|provisioned-model)/(?P<rest>.+)$")
# Vertex publisher model ids: the name, then `@<YYYYMMDD>` (or `@default`) for models before the 4.6 generation.
VERTEX_ID = re.compile(r"^(?P<name>claude-[a-z0-9.-]+?)(?:@(?P<version>\d{8}|default))?$")
API_ID = re.compile(r"^claude-[a-z0-9.-]+$")
DATED = re.compile(r"-\d{8}$")

SHAPE_LABEL = {"api": "a Claude API model id", "bedrock": "a Bedrock model id", "vertex": "a Vertex AI model id"}


def _literals(tp) -> set[str]:
    out: set[str] = set()
    for arg in typing.get_args(tp):
        if isinstance(arg, str):
            out.add(arg)
        else:
            out |= _literals(arg)
    return out


@lru_cache(maxsize=1)
def data() -> dict:
    """catalog.yaml as loaded: sources, platforms, defaults, models."""
    return yaml.safe_load(PATH.read_text())


@lru_cache(maxsize=1)
def _models() -> tuple[dict[str, dict], frozenset]:
    """(name -> catalogue entry, names that came from the SDK)."""
    by_name: dict[str, dict] = {}
    for entry in data()["models"]:
        for name in entry["names"]:
            by_name[name] = entry
    try:
        from anthropic.types.model import Model
        sdk = frozenset(_literals(Model))
    except ImportError:  # pragma: no cover - the SDK is a dependency (schemas)
        sdk = frozenset()
    for name in sdk:
        by_name.setdefault(name, {"names": [name]})   # known by name only: no feature profile
    return by_name, sdk


def known_model(api_id: str) -> dict | None:
    return _models()[0].get(api_id)


def platform(provider: str) -> str | None:
    """The catalogue platform (first_party, bedrock, vertex, foundry) a provider package belongs to."""
    for key, providers in data()["platforms"].items():
        if provider in providers:
            return key
    return None


def offered(entry: dict, provider: str) -> bool:
    """Does the platform of `provider` serve this model? (An SDK-only name has no `served_on`: not judged here.)"""
    return "served_on" not in entry or platform(provider) in entry["served_on"]


ENTRY_ONLY = ("names", "served_on", "ids", "platform", "source", "cli_table_disagrees")


def features(provider: str, name: str) -> dict | None:
    """The feature profile of model `name` (a Claude API name) on `provider`, or None when the catalogue has none
    (an unknown name, or one only the SDK's literal knows). Keys: the entry's (catalog.yaml) over the defaults,
    the platform's overrides over both, and derived flags: adaptive_thinking, effort (bool), efforts (levels),
    context_1m (the context-1m beta lifts the window to 1M), max_context (the window)."""
    entry = known_model(name)
    if entry is None or "context" not in entry:
        return None
    feat = dict(data().get("defaults", {}))
    feat.update({k: v for k, v in entry.items() if k not in ENTRY_ONLY})
    feat.update((entry.get("platform") or {}).get(platform(provider), {}))
    ctx = feat["context"]
    feat["name"] = entry["names"][0]
    feat["thinking"] = list(feat.get("thinking", []))
    feat["efforts"] = list(feat.get("effort") or [])
    feat["effort"] = bool(feat["efforts"])
    feat["adaptive_thinking"] = "adaptive" in feat["thinking"]
    feat["native_1m"] = bool(ctx.get("native_1m"))
    feat["context_1m"] = bool(ctx.get("beta_1m") or ctx.get("native_1m"))
    feat["max_context"] = int(ctx["window"])
    feat.setdefault("tool_types_refused", [])
    return feat


def reduce(shape: str, model_id: str) -> str | None:
    """The Claude API id a model id in `shape` stands for, or None when it is not of that shape."""
    if not isinstance(model_id, str):
        return None
    if shape == "api":
        return model_id if API_ID.match(model_id) else None
    if shape == "bedrock":
        m = BEDROCK_ARN.match(model_id)
        mm = BEDROCK_ID.match(m.group("rest") if m else model_id)
        return mm.group("model") if mm else None
    if shape == "vertex":
        mm = VERTEX_ID.match(model_id)
        if not mm:
            return None
        name, version = mm.group("name"), mm.group("version")
        if version is None and DATED.search(name):
            return None   # a dated Claude API id: Vertex writes the date after `@`
        return f"{name}-{version}" if version and version != "default" else name
    raise ValueError(shape)


@dataclass
class Verdict:
    cause: str               # ok | refused | emulator_gap
    name: str | None = None  # the Claude API id when known
    why: str | None = None


def judge(provider: str, model_id, shape: str | None = None) -> Verdict:
    """Is `model_id` a model this provider offers, written the way this provider writes it?"""
    shape = shape or registry.get(provider).model_id_shape
    own = reduce(shape, model_id)
    if own is not None:
        entry = known_model(own)
        if entry is None:
            return Verdict("emulator_gap", why=f"model id {model_id!r} names no model the emulator knows "
                                               "(catalog.yaml, the anthropic SDK's Model literal)")
        if not offered(entry, provider):
            return Verdict("refused", own, f"{own} is not offered on {provider} (catalog.yaml: served on "
                                           f"{', '.join(entry['served_on'])}; {provider} is {platform(provider)})")
        return Verdict("ok", own)
    for other in ("api", "bedrock", "vertex"):
        if other == shape:
            continue
        name = reduce(other, model_id)
        if name is not None and known_model(name) is not None:
            return Verdict("refused", name, f"{model_id!r} is {SHAPE_LABEL[other]}, not {SHAPE_LABEL[shape]} "
                                            f"({provider})")
    return Verdict("emulator_gap", why=f"model id {model_id!r} is neither {SHAPE_LABEL[shape]} nor any other "
                                       "provider's id of a model the emulator knows")


def require(verdict: Verdict, kind: str, message: str, status: int, **kw) -> str:
    """The Claude API id, or raise the provider's own error (`kind`, `message`, `status`) tagged with why."""
    if verdict.cause == "ok":
        return verdict.name
    reason = (message + " (" + verdict.why + ")") if verdict.cause == "refused" else "emulator gap: " + verdict.why
    raise EmulatorError(kind, message, status, cause=verdict.cause, reason=reason, **kw)


# -- beta flags and tool types ---------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def sdk_betas() -> frozenset:
    try:
        from anthropic.types.anthropic_beta_param import AnthropicBetaParam
    except ImportError:  # pragma: no cover
        return frozenset()
    return frozenset(_literals(AnthropicBetaParam))


@lru_cache(maxsize=1)
def _profile_values() -> tuple[frozenset, frozenset]:
    betas, tools = set(), set()
    for provider in sorted(registry.ids()):
        prof = profiles.load(provider)
        betas |= set(prof.get("betas_accepted", []))
        tools |= set(prof.get("tool_types_accepted", []))
    return frozenset(betas), frozenset(tools)


def known_beta(beta: str) -> bool:
    """Accepted by some provider profile, or one of the anthropic SDK's known betas."""
    return beta in _profile_values()[0] or beta in sdk_betas()


def known_tool_type(ttype: str) -> bool:
    """Accepted by some provider profile."""
    return ttype in _profile_values()[1]
