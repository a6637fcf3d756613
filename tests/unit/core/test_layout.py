"""The house's layout rule: what is true of one provider lives in its package (`providers/<id>/`).

No module outside `providers/` contains a provider id as a string literal (the manifest, docs and tests aside):
a new column is one new package plus a manifest entry, and nothing else in the tree needs to learn its name.
"""
from __future__ import annotations

import ast
from pathlib import Path

from providers import registry

ROOT = Path(__file__).resolve().parents[3]
CODE = ["ccmatrix", "producer", "worker", "emulator", "fidelity", "bench"]


def literals_naming_providers(path: Path, ids: set[str]) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in ids:
            hits.append((node.lineno, node.value))
    return hits


def offenders() -> dict[str, list[tuple[int, str]]]:
    ids = set(registry.ids())
    found = {}
    for top in CODE:
        for path in sorted((ROOT / top).rglob("*.py")):
            hits = literals_naming_providers(path, ids)
            if hits:
                found[str(path.relative_to(ROOT))] = hits
    return found


def test_the_registry_finds_every_provider_package():
    packages = {p.parent.name for p in (ROOT / "providers").glob("*/__init__.py") if not p.parent.name.startswith("_")}
    assert set(registry.ids()) == packages
    for provider in registry.all():
        assert provider.wire in ("messages", "converse"), provider
        assert provider.message_operations, provider
        assert callable(provider.module("gateway").entry)


def test_no_module_outside_providers_names_a_provider_id():
    assert offenders() == {}


def test_the_rule_catches_a_literal(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text(f"ROUTE = {registry.ids()[0]!r}\n")
    assert literals_naming_providers(planted, set(registry.ids())) == [(1, registry.ids()[0])]
