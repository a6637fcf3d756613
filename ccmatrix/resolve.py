"""What `latest` means right now, from the registries themselves.

- LiteLLM: the newest final (non-pre-release, non-yanked) release on the package index whose proxy resolves and
  installs here (`pip install --dry-run "litellm[proxy]==V"`): newer releases that do not are skipped and named with
  the reason (measured 2026-11-29: from 1.110.0 `litellm[proxy]` needs a `litellm-proxy` distribution this index does
  not serve; 1.108.8 … 1.109.3 pin `litellm-enterprise` / `litellm-proxy-extras` builds it does not have yet).
- Claude Code: the newest final `@anthropic-ai/claude-code` published at least N days ago (the registry's `time`
  map), so a release has had time to be pulled back before the matrix tests it.

Explicit versions pass through unchanged. A registry that cannot be reached is a clear error naming it; with
`offline=True` the last resolution (kept under `.cache/resolve/`) is used instead — never a silent fallback.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import httpx
from packaging.version import InvalidVersion, Version

PYPI_JSON = "https://pypi.org/pypi/{name}/json"
NPM_REGISTRY = "https://registry.npmjs.org/{name}"
CLAUDE_CODE = "@anthropic-ai/claude-code"
LITELLM = "litellm"
PROBE_TTL_S = 24 * 3600  # installability can change as the index gains packages: re-probe daily


class ResolveError(ValueError):
    """`latest` could not be resolved; the message names the registry and what to do."""


@dataclass
class Resolution:
    tool: str
    requested: str
    version: str
    source: str  # the registry URL it was resolved from, "pinned", or "offline (last resolved <when>)"
    resolved_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    skipped: list[dict[str, str]] = field(default_factory=list)  # newer releases passed over, with the reason

    def to_json(self) -> dict:
        return asdict(self)


Fetch = Callable[[str], dict]


def fetch_json(url: str, timeout: float = 30.0) -> dict:
    try:
        response = httpx.get(url, timeout=timeout, follow_redirects=True,
                             headers={"Accept": "application/json"})
    except httpx.HTTPError as error:
        raise ResolveError(f"cannot reach {url}: {type(error).__name__}: {error} "
                           "(pin a version, or pass --offline to use the last resolved versions)") from None
    if response.status_code != 200:
        raise ResolveError(f"{url} answered {response.status_code}: {response.text[:200]!r}")
    try:
        return response.json()
    except ValueError:
        raise ResolveError(f"{url} did not answer JSON") from None


def _final(version: str) -> Version | None:
    try:
        parsed = Version(version)
    except InvalidVersion:
        return None
    return None if (parsed.is_prerelease or parsed.is_devrelease) else parsed


# --- LiteLLM ---------------------------------------------------------------------------------------------
def litellm_finals(metadata: dict) -> list[str]:
    """Final, non-yanked releases with at least one file, newest first."""
    out = []
    for version, files in (metadata.get("releases") or {}).items():
        parsed = _final(version)
        if parsed is None or not files or all(f.get("yanked") for f in files):
            continue
        out.append((parsed, version))
    return [v for _, v in sorted(out, reverse=True)]


Probe = Callable[[str], str | None]  # None = installs; else the reason it does not


def pip_probe(python: str = sys.executable) -> Probe:
    def probe(version: str) -> str | None:
        done = subprocess.run([python, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                               "--disable-pip-version-check", f"litellm[proxy]=={version}", "google-auth"],
                              capture_output=True, text=True, timeout=600)
        if done.returncode == 0:
            return None
        errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
        return (errors[-1] if errors else done.stderr.strip()[-300:] or f"pip exited {done.returncode}")[:300]
    return probe


class ProbeCache:
    """Probe results per version, kept for PROBE_TTL_S in `<cache>/resolve/litellm-probes.json`."""

    def __init__(self, path: Path | None):
        self.path = path
        self.data: dict[str, dict] = {}
        if path and path.exists():
            try:
                self.data = json.loads(path.read_text())
            except ValueError:
                self.data = {}

    def get(self, version: str) -> tuple[bool, str | None] | None:
        entry = self.data.get(version)
        if entry and time.time() - entry.get("at", 0) < PROBE_TTL_S:
            return True, entry.get("reason")
        return None

    def put(self, version: str, reason: str | None) -> None:
        self.data[version] = {"reason": reason, "at": time.time()}
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(self.data, indent=1, sort_keys=True))


def resolve_litellm(requested: str, *, fetch: Fetch = fetch_json, probe: Probe | None = None,
                    cache: ProbeCache | None = None, limit: int = 25) -> Resolution:
    if requested != "latest":
        return Resolution(LITELLM, requested, requested, "pinned")
    url = PYPI_JSON.format(name=LITELLM)
    finals = litellm_finals(fetch(url))
    if not finals:
        raise ResolveError(f"{url} lists no final release of {LITELLM}")
    probe = probe or pip_probe()
    cache = cache or ProbeCache(None)
    skipped = []
    for version in finals[:limit]:
        known = cache.get(version)
        reason = known[1] if known else probe(version)
        if not known:
            cache.put(version, reason)
        if reason is None:
            return Resolution(LITELLM, requested, version, url, skipped=skipped)
        skipped.append({"version": version, "reason": reason})
    raise ResolveError(f"none of the {min(limit, len(finals))} newest {LITELLM} releases installs its proxy here "
                       f"(newest: {finals[0]}: {skipped[0]['reason'] if skipped else '?'})")


# --- Claude Code -----------------------------------------------------------------------------------------
def resolve_claude_code(requested: str, *, min_age_days: float = 3, fetch: Fetch = fetch_json,
                        now: datetime | None = None) -> Resolution:
    if requested != "latest":
        return Resolution(CLAUDE_CODE, requested, requested, "pinned")
    url = NPM_REGISTRY.format(name=CLAUDE_CODE)
    metadata = fetch(url)
    times = metadata.get("time") or {}
    versions = metadata.get("versions") or {}
    now = now or datetime.now(timezone.utc)
    cutoff = now - timedelta(days=min_age_days)
    candidates, skipped = [], []
    for version in versions:
        parsed = _final(version)
        published = times.get(version)
        if parsed is None or not published:
            continue
        at = datetime.fromisoformat(published.replace("Z", "+00:00"))
        candidates.append((parsed, version, at))
    for parsed, version, at in sorted(candidates, reverse=True):
        if at <= cutoff:
            return Resolution(CLAUDE_CODE, requested, version, url, skipped=skipped)
        skipped.append({"version": version, "reason": f"published {at.isoformat(timespec='minutes')}, less than "
                                                         f"{min_age_days:g} days ago"})
    raise ResolveError(f"{url} lists no final {CLAUDE_CODE} release at least {min_age_days:g} days old")


# --- both, with the offline memory -----------------------------------------------------------------------
def resolve(litellm: str, claude_code: str, *, cache_dir: Path, min_age_days: float = 3, offline: bool = False,
            fetch: Fetch = fetch_json, probe: Probe | None = None) -> dict[str, Resolution]:
    memory = cache_dir / "resolve" / "last.json"
    if offline:
        return _from_memory(memory, litellm, claude_code)
    out = {
        "litellm": resolve_litellm(litellm, fetch=fetch, probe=probe,
                                   cache=ProbeCache(cache_dir / "resolve" / "litellm-probes.json")),
        "claude_code": resolve_claude_code(claude_code, min_age_days=min_age_days, fetch=fetch),
    }
    memory.parent.mkdir(parents=True, exist_ok=True)
    memory.write_text(json.dumps({k: v.to_json() for k, v in out.items()}, indent=1))
    return out


def _from_memory(memory: Path, litellm: str, claude_code: str) -> dict[str, Resolution]:
    wanted = {"litellm": litellm, "claude_code": claude_code}
    out: dict[str, Resolution] = {}
    stored = json.loads(memory.read_text()) if memory.exists() else {}
    for key, requested in wanted.items():
        if requested != "latest":
            out[key] = Resolution(LITELLM if key == "litellm" else CLAUDE_CODE, requested, requested, "pinned")
            continue
        if key not in stored:
            raise ResolveError(f"--offline: no earlier resolution of {key} 'latest' in {memory}")
        last = Resolution(**stored[key])
        last.source = f"offline (last resolved {last.resolved_at} from {last.source})"
        out[key] = last
    return out
