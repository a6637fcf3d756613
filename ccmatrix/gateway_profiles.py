"""Gateway profiles: the settings a run gives the gateway under test, read from data (gateway_profiles/<gateway>.yaml,
one file per gateway plug-in of gateways/; litellm.yaml when no gateway is named).

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

PROFILES_DIR = PROJECT_ROOT / "gateway_profiles"
PROFILES_PATH = PROFILES_DIR / "litellm.yaml"
# The config sections a profile (or the harness) may set; model_list comes from the provider packages only. A
# gateway's file may name its own (`sections:`); the section ROOT stands for the config's top level (a gateway whose
# settings are top-level keys, e.g. Portkey's gateway config or claude-code-router's config.json).
SECTIONS = ("litellm_settings", "general_settings", "router_settings")
ROOT = "config"


def profiles_path(gateway: str | None = None) -> Path:
    """gateway_profiles/<gateway>.yaml (litellm.yaml for None)."""
    return PROFILES_DIR / f"{gateway or 'litellm'}.yaml"


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
        if not section or not key or "." in key:
            raise ValueError(f"{value!r} is not <section>.<key>")
        return value


class GatewayProfile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = ""  # filled from the key under `profiles`
    description: str
    sources: list[str] = Field(min_length=1)
    settings: dict[str, dict[str, Any]] = Field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """What the matrix records of the profile that ran: its name and its own settings (no harness)."""
        return {"name": self.name, "settings": copy.deepcopy(self.settings)}


class GatewayProfiles(BaseModel):
    model_config = ConfigDict(extra="forbid")
    gateway: str
    sections: list[str] = Field(default_factory=lambda: list(SECTIONS), min_length=1)
    profiles: dict[str, GatewayProfile] = Field(min_length=1)
    harness: list[HarnessSetting] = Field(default_factory=list)

    def misplaced(self) -> tuple[str, str] | None:
        """(where, what) of the first setting outside this file's sections, or None."""
        for name, profile in self.profiles.items():
            unknown = sorted(set(profile.settings) - set(self.sections))
            if unknown:
                return (f"profiles.{name}.settings", f"unknown config section(s) {unknown}: a profile sets only "
                                                      f"{', '.join(self.sections)}")
        for index, harness in enumerate(self.harness):
            if harness.setting.partition(".")[0] not in self.sections:
                return (f"harness.{index}.setting", f"{harness.setting!r} is not <section>.<key> with a section "
                                                    f"among {', '.join(self.sections)}")
        return None

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
        for section in self.sections:
            target = out if section == ROOT else out.setdefault(section, {})
            target.update(copy.deepcopy(profile.settings.get(section, {})))
        for harness in self.harness:
            section, _, key = harness.setting.partition(".")
            (out if section == ROOT else out[section])[key] = copy.deepcopy(harness.value)
        return out


def load_profiles(path: Path | str | None = None, gateway: str | None = None) -> GatewayProfiles:
    """The profiles file (default: gateway_profiles/<gateway>.yaml, litellm's without a gateway), validated; refuses
    with the file and the field."""
    path = Path(path) if path else profiles_path(gateway)
    if path.parent == PROFILES_DIR:
        return _default_profiles(path)
    return _load(path)


@lru_cache(maxsize=8)
def _default_profiles(path: Path = PROFILES_PATH) -> GatewayProfiles:
    return _load(path)


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
        profiles = GatewayProfiles.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise GatewayProfileError(f"{path}: {where}: {first['msg']}") from None
    wrong = profiles.misplaced()
    if wrong:
        raise GatewayProfileError(f"{path}: {wrong[0]}: {wrong[1]}")
    return profiles


def get_profile(name: str) -> GatewayProfile:
    """The profile `name` from the default file (GatewayProfileError naming the known ones if there is none)."""
    return load_profiles().get(name)


def default_profile_name() -> str:
    """CCMATRIX_GATEWAY_PROFILE (ccmatrix/settings.py)."""
    from ccmatrix.settings import get_settings

    return get_settings().gateway_profile
