"""`latest` from the registries' own metadata (recorded real responses, trimmed): pre-releases skipped, the
proxy-installs rule for LiteLLM, the minimum-age rule for Claude Code, clear errors, the offline memory."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from ccmatrix import resolve as r

REGISTRIES = Path(__file__).resolve().parents[2] / "fixtures" / "registries"
PYPI = json.loads((REGISTRIES / "pypi-litellm.json").read_text())
NPM = json.loads((REGISTRIES / "npm-claude-code.json").read_text())
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)
# What pip said on 2026-11-29 (../shared/notes/litellm-proxy.md): 1.108.7 is the newest whose proxy installs.
INSTALLS = "1.108.7"


def fetch(url: str) -> dict:
    return {r.PYPI_JSON.format(name="litellm"): PYPI, r.NPM_REGISTRY.format(name=r.CLAUDE_CODE): NPM}[url]


def probe(version: str) -> str | None:
    from packaging.version import Version

    if Version(version) <= Version(INSTALLS):
        return None
    return "ERROR: No matching distribution found for litellm-proxy==" + version


def test_litellm_finals_skip_pre_releases_and_yanked():
    finals = r.litellm_finals(PYPI)
    assert finals[0] == "1.110.2"
    assert not any(tag in v for v in finals for tag in ("rc", "dev"))
    assert finals == sorted(finals, key=lambda v: tuple(map(int, v.split("."))), reverse=True)


def test_latest_litellm_is_the_newest_whose_proxy_installs_and_names_the_skipped(tmp_path):
    calls = []

    def counting(version):
        calls.append(version)
        return probe(version)

    cache = r.ProbeCache(tmp_path / "probes.json")
    got = r.resolve_litellm("latest", fetch=fetch, probe=counting, cache=cache)
    assert got.version == INSTALLS and got.source.startswith("https://pypi.org/")
    assert got.skipped[0]["version"] == "1.110.2" and "litellm-proxy" in got.skipped[0]["reason"]
    assert all(s["version"] != INSTALLS for s in got.skipped)
    again = r.resolve_litellm("latest", fetch=fetch, probe=counting, cache=r.ProbeCache(tmp_path / "probes.json"))
    assert again.version == INSTALLS and len(calls) == len(got.skipped) + 1, "probes are cached"


def test_an_explicit_version_pins():
    assert r.resolve_litellm("1.93.0", fetch=None).version == "1.93.0"
    assert r.resolve_claude_code("2.1.126", fetch=None).source == "pinned"


def test_latest_claude_code_honours_the_minimum_age():
    got = r.resolve_claude_code("latest", min_age_days=3, fetch=fetch, now=NOW)
    assert got.version == "2.1.332"  # published 2026-11-24, five days before NOW
    younger = r.resolve_claude_code("latest", min_age_days=6, fetch=fetch, now=NOW)
    assert younger.version == "2.1.330"  # 2.1.331 (11-23 18:36) is 5.7 days old at NOW
    assert [s["version"] for s in younger.skipped] == ["2.1.332", "2.1.331"]
    assert "less than 6 days" in younger.skipped[0]["reason"]


def test_claude_code_pre_releases_are_skipped():
    npm = json.loads(json.dumps(NPM))
    npm["versions"]["2.2.0-beta.1"] = {}
    npm["time"]["2.2.0-beta.1"] = "2026-11-01T00:00:00Z"
    got = r.resolve_claude_code("latest", min_age_days=3, fetch=lambda url: npm, now=NOW)
    assert got.version == "2.1.332"


def test_an_unreachable_registry_is_a_clear_error_naming_it(monkeypatch):
    def refuse(*a, **k):
        raise httpx.ConnectError("connection refused")

    monkeypatch.setattr(r.httpx, "get", refuse)
    with pytest.raises(r.ResolveError, match=r"cannot reach https://registry.npmjs.org/.*--offline"):
        r.resolve_claude_code("latest")


def test_offline_uses_the_last_resolution_and_says_so(tmp_path):
    first = r.resolve("latest", "latest", cache_dir=tmp_path, fetch=fetch, probe=probe, min_age_days=0)
    assert first["litellm"].version == INSTALLS
    offline = r.resolve("latest", "2.1.197", cache_dir=tmp_path, offline=True)
    assert offline["litellm"].version == INSTALLS and offline["litellm"].source.startswith("offline")
    assert offline["claude_code"].version == "2.1.197"
    with pytest.raises(r.ResolveError, match="no earlier resolution"):
        r.resolve("latest", "latest", cache_dir=tmp_path / "empty", offline=True)
