"""requirements.lock: the project's environment, every package at one version with its hashes (made by `make lock`).

The emulator's strictness comes from installed packages (anthropic's request types through pydantic, botocore's
service model), so a verdict is reproducible only with the same versions: `make run`/`make test` install from the
lock, and these helpers let a test prove that the lock covers pyproject.toml and that an environment matches it.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCK_FILE = ROOT / "requirements.lock"
PYPROJECT = ROOT / "pyproject.toml"

_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)\s*(?:;\s*(?P<marker>[^\\]+?))?\s*\\?$")
_HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})")


class LockError(ValueError):
    """The lock file cannot be read as a pinned, hashed requirements file."""


@dataclass
class Pin:
    name: str  # canonical
    version: str
    marker: Marker | None = None
    hashes: list[str] = field(default_factory=list)

    def applies(self, environment: dict[str, str] | None = None) -> bool:
        return self.marker is None or self.marker.evaluate(environment)


def parse_lock(text: str) -> dict[str, Pin]:
    """The pins of a `uv pip compile --generate-hashes` (or pip-compile) output, by canonical name."""
    pins: dict[str, Pin] = {}
    current: Pin | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("--hash="):
            if current is None:
                raise LockError(f"line {number}: a hash before any pin")
            current.hashes.extend(_HASH.findall(line))
            continue
        match = _PIN.match(line)
        if not match:
            raise LockError(f"line {number}: not a `name==version` pin: {line[:80]!r}")
        marker = Marker(match["marker"]) if match["marker"] else None
        current = Pin(canonicalize_name(match["name"]), match["version"], marker)
        pins[current.name] = current
    return pins


def pyproject_requirements(text: str, extras: tuple[str, ...] = ("dev",)) -> list[Requirement]:
    """The project's dependencies and those of the named optional-dependency groups."""
    project = tomllib.loads(text)["project"]
    listed = list(project.get("dependencies", []))
    for extra in extras:
        listed += project.get("optional-dependencies", {}).get(extra, [])
    return [Requirement(r) for r in listed]


def uncovered(requirements: list[Requirement], pins: dict[str, Pin]) -> list[str]:
    """Each requirement the lock does not satisfy (absent, or pinned to a version outside its specifier)."""
    problems = []
    for req in requirements:
        if req.marker is not None and not req.marker.evaluate():
            continue
        pin = pins.get(canonicalize_name(req.name))
        if pin is None:
            problems.append(f"{req} is not in the lock")
        elif req.specifier and not req.specifier.contains(pin.version, prereleases=True):
            problems.append(f"{req} but the lock pins {pin.name}=={pin.version}")
    return problems


def closure_missing(requirements: list[Requirement], pins: dict[str, Pin]) -> list[str]:
    """Packages the installed environment's metadata says the requirements need (transitively, with their extras
    and this interpreter's markers) that the lock does not list. Packages not installed here are not walked."""
    missing: list[str] = []
    seen: set[tuple[str, str]] = set()
    todo = [(req, "") for req in requirements]
    while todo:
        req, via = todo.pop()
        name = canonicalize_name(req.name)
        wanted = tuple(sorted(req.extras))
        if (name, ",".join(wanted)) in seen:
            continue
        seen.add((name, ",".join(wanted)))
        if name not in pins:
            missing.append(f"{name}" + (f" (needed by {via})" if via else ""))
            continue
        try:
            requires = metadata.requires(req.name) or []
        except metadata.PackageNotFoundError:
            continue
        for spec in requires:
            child = Requirement(spec)
            contexts = [{"extra": e} for e in wanted] or [{"extra": ""}]
            if child.marker is None or any(child.marker.evaluate(c) for c in contexts):
                todo.append((child, name))
    return sorted(set(missing))


def installed_mismatches(pins: dict[str, Pin]) -> list[str]:
    """Each pin that applies here but is not what this environment has installed."""
    problems = []
    for pin in pins.values():
        if not pin.applies():
            continue
        try:
            have = metadata.version(pin.name)
        except metadata.PackageNotFoundError:
            problems.append(f"{pin.name}=={pin.version} is not installed")
            continue
        if have != pin.version:
            problems.append(f"{pin.name}: locked {pin.version}, installed {have}")
    return problems
