"""What the gateways installed from npm share: resolving `latest` to the newest final release that installs here
(`npm install --dry-run` resolves its whole dependency tree against the registry this machine uses), remembered
under `.cache/resolve/<gateway>.json` for `--offline`; provisioning through ccmatrix.provision.ensure_npm (the way
Claude Code itself is installed); and booting `node <entry point>` inside the sandbox."""
from __future__ import annotations

import json
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable

from packaging.version import InvalidVersion, Version

Probe = Callable[[str], "str | None"]  # None: installs; else why not


def finals(metadata: dict) -> list[str]:
    """Final releases in the registry's metadata, newest first."""
    out = []
    for version in (metadata.get("versions") or {}):
        try:
            parsed = Version(version)
        except InvalidVersion:
            continue
        if not (parsed.is_prerelease or parsed.is_devrelease):
            out.append((parsed, version))
    return [v for _, v in sorted(out, reverse=True)]


def explain_npm_failure(stderr: str, returncode: int = 1) -> str:
    """Why `npm install --dry-run` refused, in one line: the resource the registry does not serve when it says so
    (measured 2026-11-29: claude-code-router 3.1.1 needs `@the-next-ai/ai-gateway@^1.0.21`, which answers 404 here),
    else npm's first error line that is not a pointer to its log."""
    lines = [line.removeprefix("npm error").strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if "The requested resource" in line:
            return line[line.index("The requested resource"):][:300]
    useful = [line for line in lines if line and not line.startswith(("A complete log", "code ", "404 Note"))]
    return (useful[0] if useful else f"npm exited {returncode}")[:300]


def npm_probe(package: str, pins: tuple[str, ...]) -> Probe:
    def probe(version: str) -> str | None:
        with tempfile.TemporaryDirectory(prefix="ccmatrix-npm-probe-") as tmp:
            done = subprocess.run(["npm", "install", "--dry-run", "--prefix", tmp, "--no-audit", "--no-fund",
                                   "--loglevel=error", f"{package}@{version}", *pins],
                                  capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
        if done.returncode == 0:
            return None
        return explain_npm_failure(done.stderr, done.returncode)
    return probe


def resolve(gateway: str, package: str, spec: str, *, cache_dir: Path, offline: bool = False,
            pins: tuple[str, ...] = (), fetch=None, probe: Probe | None = None, limit: int = 8) -> str:
    """`spec` itself when it is a version; for `latest` the newest final release of `package` that installs here
    (with `pins` beside it). ccmatrix.resolve.ResolveError (a ValueError, one line) when none does or the registry
    cannot be reached."""
    from ccmatrix.resolve import NPM_REGISTRY, ResolveError, fetch_json

    if spec != "latest":
        return spec
    memory = Path(cache_dir) / "resolve" / f"{gateway}.json"
    if offline:
        try:
            return json.loads(memory.read_text())["version"]
        except (OSError, ValueError, KeyError):
            raise ResolveError(f"--offline: no earlier resolution of {gateway} 'latest' in {memory}") from None
    url = NPM_REGISTRY.format(name=package)
    releases = finals((fetch or fetch_json)(url))
    probe = probe or npm_probe(package, pins)
    skipped = []
    for version in releases[:limit]:
        reason = probe(version)
        if reason is None:
            memory.parent.mkdir(parents=True, exist_ok=True)
            memory.write_text(json.dumps({"version": version, "source": url, "skipped": skipped,
                                          "resolved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}))
            return version
        skipped.append({"version": version, "reason": reason})
    newest = f" (newest: {skipped[0]['version']}: {skipped[0]['reason']})" if skipped else ""
    raise ResolveError(f"none of the {min(limit, len(releases))} newest {package} releases installs here{newest}")
