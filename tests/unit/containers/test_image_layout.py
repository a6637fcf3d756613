"""The worker image's tool layout meets the real provisioner: after the entrypoint has seeded the writable cache,
`ensure_claude` / `ensure_litellm` find the baked tools without downloading anything."""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from ._helpers import DOCKER_DIR

ENTRYPOINT = DOCKER_DIR / "worker-entrypoint.sh"


def _pins() -> tuple[str, str]:
    text = (DOCKER_DIR / "worker.Dockerfile").read_text()
    claude = re.search(r"^ARG CLAUDE_CODE_VERSION=(\S+)", text, re.M).group(1)
    litellm = re.search(r"^ARG LITELLM_VERSION=(\S+)", text, re.M).group(1)
    return claude, litellm


def test_dockerfile_pins_match_the_manifest():
    from ccmatrix.manifest import load_manifest

    manifest = load_manifest()
    assert _pins() == (manifest.claude_code_version, manifest.litellm_version), \
        "the image's build-arg defaults should be the manifest's pins"


def _bake(root: Path, claude: str, litellm: str) -> None:
    """What the Dockerfile's COPY lines produce under /opt."""
    binary = root / "claude-code" / claude / "node_modules" / ".bin" / "claude"
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\necho '%s (Claude Code)'\n" % claude)
    binary.chmod(0o755)
    (root / "claude-code" / claude / ".ccmatrix-ok").write_text(claude)
    venv = root / "litellm" / litellm
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "litellm").write_text("#!/bin/sh\n")
    (venv / "bin" / "litellm").chmod(0o755)
    (venv / ".ccmatrix-ok").write_text(litellm)


def _entrypoint(cache: Path, baked: Path, *argv: str) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"], "CCMATRIX_CACHE_DIR": str(cache), "CCMATRIX_BAKED_DIR": str(baked)}
    return subprocess.run(["sh", str(ENTRYPOINT), *argv], capture_output=True, text=True, env=env, timeout=30)


def test_entrypoint_seeds_the_cache_for_the_provisioner(tmp_path, monkeypatch):
    claude, litellm = _pins()
    baked, cache = tmp_path / "opt", tmp_path / "cache"
    _bake(baked, claude, litellm)
    done = _entrypoint(cache, baked, "echo", "started")
    assert done.returncode == 0 and done.stdout.strip() == "started", done.stderr
    assert (cache / "claude-code" / claude).is_symlink()
    # twice is fine (a restarted container keeps its emptyDir)
    assert _entrypoint(cache, baked, "true").returncode == 0

    from ccmatrix import provision

    def no_download(cmd, what, *a, **kw):
        raise AssertionError(f"the provisioner tried to download: {what}")

    monkeypatch.setattr(provision, "_run", no_download)
    monkeypatch.delenv("CCMATRIX_CLAUDE_BIN", raising=False)
    binary = provision.ensure_claude(cache, claude)
    assert binary == cache / "claude-code" / claude / "node_modules" / ".bin" / "claude"
    assert subprocess.run([str(binary), "--version"], capture_output=True, text=True).stdout.startswith(claude)
    venv = provision.ensure_litellm(cache, litellm)
    assert (venv / "bin" / "litellm").exists()
    # the locks live in the writable cache, not in the (read-only) baked tree
    assert not list(baked.rglob("*.lock"))


def test_entrypoint_tolerates_an_unwritable_cache(tmp_path):
    """Flower and the CronJob run the same image without a writable cache: the entrypoint warns and goes on."""
    baked = tmp_path / "opt"
    _bake(baked, *_pins())
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")  # mkdir below a regular file fails, even for root
    done = _entrypoint(blocker / "cache", baked, "echo", "flower")
    assert done.returncode == 0 and done.stdout.strip() == "flower", done.stderr
    assert "not writable" in done.stderr
