"""What `latest` means right now, from the registries themselves.

- LiteLLM: the newest final (non-pre-release, non-yanked) release on the package index whose proxy resolves and
  installs here (`pip install --dry-run "litellm[proxy]==V"`): newer releases that do not are skipped and named with
  the reason (measured 2026-11-29: from 1.110.0 `litellm[proxy]` needs a `litellm-proxy` distribution this index does
  not serve; 1.108.8 … 1.109.3 pin `litellm-enterprise` / `litellm-proxy-extras` builds it does not have yet).
- Claude Code: the newest final `@anthropic-ai/claude-code` published at least N days ago (the registry's `time`
  map), so a release has had time to be pulled back before the matrix tests it.

Explicit versions pass through unchanged. A LiteLLM local source tree or built wheel (the gate before a release,
ccmatrix.local_source) resolves to its spec — path, content hash, the version it declares — with no registry asked;
a path that is not there, or not LiteLLM, is a ResolveError naming it. A registry that cannot be reached is a clear error naming it; with
`offline=True` the last resolution (kept under `.cache/resolve/`) is used instead — never a silent fallback.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

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
    local: dict[str, Any] | None = None  # a local tree or wheel: {kind, path, sha256, declares, label}

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


_NOT_SERVED = re.compile(r"(?:satisfies the requirement|No matching distribution found for) (?P<req>[^\s;]+)")
_SERVED = re.compile(r"\(from versions: (?P<versions>[^)]*)\)")


def explain_pip_failure(stderr: str, version: str, returncode: int = 1) -> str:
    """Why `pip install --dry-run "litellm[proxy]==V"` failed, in one line a run report can show: the split proxy
    package (LiteLLM >= 1.110.0 needs `litellm-proxy==V`) or a pinned dependency the index does not serve is named as
    such; anything else is pip's own last ERROR line."""
    from ccmatrix.provision import SPLIT_PROXY_DIST

    errors = [line.strip() for line in stderr.splitlines() if line.startswith("ERROR")]
    for line in errors:
        found = _NOT_SERVED.search(line)
        if not found:
            continue
        requirement = found["req"]
        name = re.split(r"[<>=!~\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")
        served = _SERVED.search(line)
        listed = [v.strip() for v in served["versions"].split(",") if v.strip() not in ("", "none")] if served else []
        index_has = f" (the index's newest: {listed[-1]})" if listed else ""
        if name == SPLIT_PROXY_DIST:
            return (f"split packaging: litellm[proxy]=={version} needs the separate distribution {requirement}, "
                    f"which the package index does not serve{index_has}")
        if name != "litellm":
            return (f"litellm[proxy]=={version} pins {requirement}, which the package index does not serve"
                    f"{index_has}")
    if errors:
        return errors[-1][:300]
    return stderr.strip()[-300:] or f"pip exited {returncode}"


def pip_probe(python: str = sys.executable) -> Probe:
    def probe(version: str) -> str | None:
        done = subprocess.run([python, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                               "--disable-pip-version-check", f"litellm[proxy]=={version}", "google-auth"],
                              capture_output=True, text=True, timeout=600)
        if done.returncode == 0:
            return None
        return explain_pip_failure(done.stderr, version, done.returncode)[:400]
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


def resolve_local(requested: str) -> Resolution:
    """A local LiteLLM tree or wheel: hashed here, once, so every job tests the same content."""
    from ccmatrix.local_source import LocalSourceError, from_path

    try:
        source = from_path(requested)
    except LocalSourceError as error:
        raise ResolveError(str(error)) from None
    return Resolution(LITELLM, requested, source.spec, f"local {source.kind} {source.path}", local=source.record())


def resolve_litellm(requested: str, *, fetch: Fetch = fetch_json, probe: Probe | None = None,
                    cache: ProbeCache | None = None, limit: int = 25) -> Resolution:
    from ccmatrix.local_source import looks_like_path

    if requested != "latest":
        if looks_like_path(requested):
            return resolve_local(requested)
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
        if key == "litellm" and requested != "latest":
            out[key] = resolve_litellm(requested)  # a pin, or a local source (hashed here: no registry involved)
            continue
        if requested != "latest":
            out[key] = Resolution(LITELLM if key == "litellm" else CLAUDE_CODE, requested, requested, "pinned")
            continue
        if key not in stored:
            raise ResolveError(f"--offline: no earlier resolution of {key} 'latest' in {memory}")
        last = Resolution(**stored[key])
        last.source = f"offline (last resolved {last.resolved_at} from {last.source})"
        out[key] = last
    return out
