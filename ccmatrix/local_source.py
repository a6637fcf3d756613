"""A LiteLLM under test that is not a release: a local source tree or a built wheel (the gate before a release).

`--litellm-version ./path/to/litellm` (a directory with pyproject.toml or setup.py whose package is litellm) or
`--litellm-version .../litellm-X-py3-none-any.whl`. The producer hashes it once and sends every job the *spec*

    <absolute path>#sha256=<64 hex>[&declares=<version the package declares>]

in `CellJob.litellm_version`, so a worker can provision it on its own host (`ccmatrix.provision.ensure_litellm`):
into its own venv `.cache/litellm/src-<hash12>/`, after checking that the content at the path still has that hash.
A worker whose host does not have the path gives an infrastructure error naming the path.

The hash: a wheel's is the sha256 of the file; a tree's covers every file's relative path and contents (sorted, so the
walk order does not matter), skipping SKIPPED_DIRS — a one-line change changes it, a `git commit` does not.
"""
from __future__ import annotations

import hashlib
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

PACKAGE = "litellm"
SKIPPED_DIRS = frozenset({".git", "__pycache__", "node_modules"})
SPEC = re.compile(r"^(?P<path>/.*)#sha256=(?P<sha256>[0-9a-f]{64})(?:&declares=(?P<declares>[^&#\s]+))?$")
KINDS = {"tree": "local tree", "wheel": "local wheel"}


class LocalSourceError(ValueError):
    """The path is not a LiteLLM source tree or wheel (or is not there); the message names the path."""


@dataclass(frozen=True)
class LocalSource:
    kind: Literal["tree", "wheel"]
    path: str  # absolute
    sha256: str  # 64 hex
    declares: str | None = None  # the version the package declares (pyproject/setup.py, or the wheel's name)

    @property
    def key(self) -> str:
        """The venv's directory name under .cache/litellm/ (never a registry version: those start with a digit)."""
        return f"src-{self.sha256[:12]}"

    @property
    def spec(self) -> str:
        """What the job carries (CellJob.litellm_version): enough for a worker to provision it on its own host."""
        return f"{self.path}#sha256={self.sha256}" + (f"&declares={self.declares}" if self.declares else "")

    @property
    def label(self) -> str:
        """How the matrix, the page and the regression report name it."""
        declares = f", declares {self.declares}" if self.declares else ""
        return f"LiteLLM {KINDS[self.kind]} {self.path} (sha256 {self.sha256[:12]}…{declares})"

    def record(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": self.path, "sha256": self.sha256, "declares": self.declares,
                "label": self.label}


# --- hashing ---------------------------------------------------------------------------------------------------
def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def tree_sha256(root: Path) -> str:
    """sha256 over (relative path, sha256 of contents) of every file under `root`, in sorted order; SKIPPED_DIRS are
    not entered. Symlinks to files count with the target's contents; empty directories and file modes do not count."""
    root = Path(root)
    entries: list[tuple[str, str]] = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
        for name in files:
            path = Path(directory) / name
            if path.is_file():
                entries.append((path.relative_to(root).as_posix(), _file_sha256(path)))
    digest = hashlib.sha256()
    for relative, content in sorted(entries):
        digest.update(relative.encode("utf-8", "surrogateescape") + b"\0" + content.encode() + b"\n")
    return digest.hexdigest()


def content_sha256(kind: str, path: Path) -> str:
    return _file_sha256(path) if kind == "wheel" else tree_sha256(path)


# --- what the package says about itself ------------------------------------------------------------------------
def _tree_metadata(root: Path) -> tuple[str | None, str | None]:
    """(name, version) from pyproject.toml ([project] or [tool.poetry]), else from setup.py's literals."""
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise LocalSourceError(f"{pyproject}: not readable TOML ({error})") from None
        for table in (data.get("project") or {}, (data.get("tool") or {}).get("poetry") or {}):
            if table.get("name"):
                return str(table["name"]), (str(table["version"]) if table.get("version") else None)
    setup = root / "setup.py"
    if setup.is_file():
        text = setup.read_text(encoding="utf-8", errors="replace")
        name = re.search(r"""\bname\s*=\s*["']([^"']+)["']""", text)
        version = re.search(r"""\bversion\s*=\s*["']([^"']+)["']""", text)
        return (name.group(1) if name else None), (version.group(1) if version else None)
    return None, None


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def looks_like_path(value: str) -> bool:
    """A --litellm-version that means a file or directory rather than a release (`latest`, `1.2.3`)."""
    return (os.sep in value or value.startswith((".", "~")) or value.endswith(".whl")
            or (bool(value) and os.path.exists(value)))


def from_path(value: str) -> LocalSource:
    """Inspect and hash a local tree or wheel; LocalSourceError (one line, naming the path) when it is not one."""
    path = Path(os.path.expanduser(value)).resolve()
    shown = f"--litellm-version {value}"
    if not path.exists():
        raise LocalSourceError(f"{shown}: {path} does not exist (expected a LiteLLM version like 1.2.3, latest, a "
                               "LiteLLM source tree or a built litellm-X-py3-none-any.whl)")
    if path.is_dir():
        if not ((path / "pyproject.toml").is_file() or (path / "setup.py").is_file()):
            raise LocalSourceError(f"{shown}: {path} has no pyproject.toml or setup.py: not a Python source tree")
        name, version = _tree_metadata(path)
        if name is not None and _normal(name) != PACKAGE:
            raise LocalSourceError(f"{shown}: {path} is the source of {name!r}, not of {PACKAGE}")
        return LocalSource("tree", str(path), tree_sha256(path), version)
    if path.suffix != ".whl":
        raise LocalSourceError(f"{shown}: {path} is a file but not a wheel (.whl)")
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    try:
        name, version, _, _ = parse_wheel_filename(path.name)
    except InvalidWheelFilename as error:
        raise LocalSourceError(f"{shown}: {error}") from None
    if name != PACKAGE:
        raise LocalSourceError(f"{shown}: {path.name} is a wheel of {name!r}, not of {PACKAGE}")
    return LocalSource("wheel", str(path), _file_sha256(path), str(version))


# --- the spec the jobs carry -------------------------------------------------------------------------------------
def parse_spec(value: str | None) -> LocalSource | None:
    """The LocalSource a job's litellm_version names, or None for a registry version."""
    found = SPEC.match(value or "")
    if not found:
        return None
    path = found["path"]
    return LocalSource("wheel" if path.endswith(".whl") else "tree", path, found["sha256"], found["declares"])


def is_local(value: str | None) -> bool:
    return parse_spec(value) is not None


def release_of(value: str | None) -> str | None:
    """The release a litellm_version stands for, for version comparisons (fidelity rules): a registry version as it
    is, a local source's declared version (None when it declares none)."""
    source = parse_spec(value)
    return source.declares if source else value


def slug(value: str) -> str:
    """A file-name-safe name for a litellm_version (a registry version as it is, a local source's `src-<hash12>`)."""
    source = parse_spec(value)
    return source.key if source else value


def label(value: str | None, record: dict[str, Any] | None = None) -> str:
    """"LiteLLM 1.2.3", or the local source's label; `record` (report.versions.litellm.local) wins when given."""
    if record and record.get("label"):
        return str(record["label"])
    source = parse_spec(value)
    return source.label if source else f"LiteLLM {value}"
