"""Gateway profiles: the settings a run gives the gateway under test, read from data (gateway_profiles/litellm.yaml).

A profile is what a gateway user picks (`recommended`: what the gateway's own Claude Code suite runs with;
`defaults`: nothing set). The test harness's own needs (no retries, no cool-downs, a timeout) are not part of any
profile: `harness` lists them, `apply` puts them on top of whichever profile ran, and the run report lists them
(`report.harness`) with the reason for each.

The default profile name is the setting CCMATRIX_GATEWAY_PROFILE (ccmatrix/settings.py, `gateway_profile`).
"""
from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ccmatrix.settings import PROJECT_ROOT

PROFILES_PATH = PROJECT_ROOT / "gateway_profiles" / "litellm.yaml"
# The config sections a profile (or the harness) may set; model_list comes from the provider packages only.
SECTIONS = ("litellm_settings", "general_settings", "router_settings")


class GatewayProfileError(ValueError):
    """A bad profiles file, or an unknown profile name (a ValueError: the run options refuse it in one line)."""


class HarnessSetting(BaseModel):
    model_config = ConfigDict(extra="forbid")
    setting: str  # "<section>.<key>", e.g. litellm_settings.num_retries
    value: Any
    reason: str

    @field_validator("setting")
    @classmethod
    def _in_a_section(cls, value: str) -> str:
        section, _, key = value.partition(".")
        if section not in SECTIONS or not key or "." in key:
            raise ValueError(f"{value!r} is not <section>.<key> with a section among {', '.join(SECTIONS)}")
        return value


class GatewayProfile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = ""  # filled from the key under `profiles`
    description: str
    sources: list[str] = Field(min_length=1)
    settings: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("settings")
    @classmethod
    def _sections_only(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        unknown = sorted(set(value) - set(SECTIONS))
        if unknown:
            raise ValueError(f"unknown config section(s) {unknown}: a profile sets only {', '.join(SECTIONS)}")
        return value

    def record(self) -> dict[str, Any]:
        """What the matrix records of the profile that ran: its name and its own settings (no harness)."""
        return {"name": self.name, "settings": copy.deepcopy(self.settings)}


class GatewayProfiles(BaseModel):
    model_config = ConfigDict(extra="forbid")
    gateway: str
    profiles: dict[str, GatewayProfile] = Field(min_length=1)
    harness: list[HarnessSetting] = Field(default_factory=list)

    def names(self) -> list[str]:
        return sorted(self.profiles)

    def get(self, name: str) -> GatewayProfile:
        try:
            return self.profiles[name]
        except KeyError:
            raise GatewayProfileError(f"unknown gateway profile {name!r}; known: {', '.join(self.names())}") from None

    def harness_report(self) -> list[dict[str, Any]]:
        """The harness settings as the run report lists them: [{setting, value, reason}]."""
        return [h.model_dump() for h in self.harness]

    def apply(self, config: dict[str, Any], name: str) -> dict[str, Any]:
        """`config` (a gateway config with its model_list) with profile `name`'s settings merged in, then the
        harness settings on top (a harness value wins over the profile's). Returns a new dict."""
        profile = self.get(name)
        out = copy.deepcopy(config)
        for section in SECTIONS:
            out.setdefault(section, {})
            out[section].update(copy.deepcopy(profile.settings.get(section, {})))
        for harness in self.harness:
            section, _, key = harness.setting.partition(".")
            out[section][key] = copy.deepcopy(harness.value)
        return out


def load_profiles(path: Path | str | None = None) -> GatewayProfiles:
    """The profiles file (default: gateway_profiles/litellm.yaml), validated; refuses with the file and the field."""
    path = Path(path) if path else PROFILES_PATH
    if path == PROFILES_PATH:
        return _default_profiles()
    return _load(path)


@lru_cache(maxsize=1)
def _default_profiles() -> GatewayProfiles:
    return _load(PROFILES_PATH)


def _load(path: Path) -> GatewayProfiles:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise GatewayProfileError(f"{path}: cannot read the gateway profiles ({error})") from None
    if not isinstance(data, dict):
        raise GatewayProfileError(f"{path}: expected a mapping with `gateway`, `profiles` and `harness`")
    profiles = data.get("profiles")
    if isinstance(profiles, dict):
        data = {**data, "profiles": {name: {**(body or {}), "name": name} if isinstance(body, dict) else body
                                     for name, body in profiles.items()}}
    try:
        return GatewayProfiles.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise GatewayProfileError(f"{path}: {where}: {first['msg']}") from None


def get_profile(name: str) -> GatewayProfile:
    """The profile `name` from the default file (GatewayProfileError naming the known ones if there is none)."""
    return load_profiles().get(name)


def default_profile_name() -> str:
    """CCMATRIX_GATEWAY_PROFILE (ccmatrix/settings.py)."""
    from ccmatrix.settings import get_settings

    return get_settings().gateway_profile
