"""requirements.lock covers pyproject.toml, pins every package with hashes, and is what this environment runs."""
from __future__ import annotations

from ccmatrix.lockfile import (LOCK_FILE, PYPROJECT, closure_missing, installed_mismatches, parse_lock,
                               pyproject_requirements, uncovered)

PINS = parse_lock(LOCK_FILE.read_text())
REQUIREMENTS = pyproject_requirements(PYPROJECT.read_text())


def test_the_lock_satisfies_every_dependency_of_pyproject():
    assert len(REQUIREMENTS) >= 20
    assert uncovered(REQUIREMENTS, PINS) == []


def test_a_dependency_missing_from_the_lock_is_named():
    pyproject = PYPROJECT.read_text().replace('dependencies = [\n', 'dependencies = [\n  "left-pad>=1",\n  "anthropic>=999",\n', 1)
    problems = uncovered(pyproject_requirements(pyproject), PINS)
    assert problems[0] == "left-pad>=1 is not in the lock"
    assert problems[1].startswith("anthropic>=999 but the lock pins anthropic==")
    assert len(problems) == 2


def test_the_lock_is_closed_over_what_the_dependencies_need():
    assert closure_missing(REQUIREMENTS, PINS) == []
    without_kombu = {name: pin for name, pin in PINS.items() if name != "kombu"}
    assert closure_missing(REQUIREMENTS, without_kombu) == ["kombu (needed by celery)"]


def test_every_pin_has_a_hash_and_the_strictness_packages_are_pinned():
    assert all(pin.hashes for pin in PINS.values()), [p.name for p in PINS.values() if not p.hashes]
    assert {"anthropic", "botocore", "pydantic", "pydantic-core"} <= set(PINS)


def test_this_environment_runs_exactly_the_locked_versions():
    assert installed_mismatches(PINS) == []
