"""Import direction: producer/ and worker/ share only the leaf modules (the job contract, the Celery app).

Read from the source with `ast`, so an import hidden in a function body counts as much as one at the top.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
LEAVES = ("ccmatrix/contract.py", "ccmatrix/celery_app.py")
CONTRACT_MAY_IMPORT = {"__future__", "typing", "pydantic", "ccmatrix.outcomes"}


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) for every import in the file, including importlib.import_module("...") and
    __import__("...") with a literal name. Relative imports stay inside their own top-level package (Python refuses
    to climb out of it), so they cannot cross sides and are left out."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            # `from worker import cell` imports worker.cell: name the submodules too
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names if alias.name != "*"]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in ("import_module", "__import__"):
                found.append((node.lineno, node.args[0].value))
    return found


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def modules_of(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts)


def crossings(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return [f"{path.relative_to(ROOT)}:{line} imports {module}"
            for path in modules_of(package)
            for line, module in imports_of(path)
            if any(_within(module, other) for other in forbidden)]


def test_the_scan_sees_both_sides_and_every_kind_of_import(tmp_path):
    producer = {p.relative_to(ROOT).as_posix() for p in modules_of("producer")}
    worker = {p.relative_to(ROOT).as_posix() for p in modules_of("worker")}
    assert {"producer/plan.py", "producer/callback.py"} <= producer
    assert {"worker/tasks.py", "worker/cell.py", "worker/checks/__init__.py"} <= worker
    probe = tmp_path / "probe.py"
    probe.write_text("import producer.plan\nfrom worker import cell\nfrom . import sibling\n"
                     "def f():\n    importlib.import_module('worker.tier')\n")
    names = {m for _, m in imports_of(probe)}
    assert {"producer.plan", "worker.cell", "worker.tier"} <= names and "sibling" not in names


def test_producer_never_imports_the_worker():
    assert crossings("producer", ("worker",)) == []


def test_worker_never_imports_the_producer():
    assert crossings("worker", ("producer",)) == []


@pytest.mark.parametrize("leaf", LEAVES)
def test_the_leaf_modules_import_neither_side(leaf):
    bad = [f"{leaf}:{line} imports {m}" for line, m in imports_of(ROOT / leaf)
           if _within(m, "producer") or _within(m, "worker")]
    assert bad == []


def test_the_contract_imports_only_the_outcomes_and_pydantic():
    extra = {m for _, m in imports_of(ROOT / "ccmatrix/contract.py")} - CONTRACT_MAY_IMPORT
    assert not {m for m in extra if not any(_within(m, ok) for ok in CONTRACT_MAY_IMPORT)}, extra


def test_the_manifest_is_data_it_imports_no_worker_code():
    bad = [m for _, m in imports_of(ROOT / "ccmatrix/manifest.py") if _within(m, "worker") or _within(m, "producer")]
    assert bad == []


def test_loading_the_leaves_and_the_manifest_runs_no_producer_or_worker_code():
    """Also transitively: importing the contract and the Celery app, and validating the manifest (check names
    included), leaves no producer or worker module loaded (`worker` itself is a namespace package, no code)."""
    code = ("import sys, ccmatrix.contract, ccmatrix.celery_app, ccmatrix.manifest as m; m.load_manifest(); "
            "print(sorted(k for k in sys.modules if k.startswith(('producer', 'worker.'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_app_loads_both_task_modules_by_name():
    """`celery -A producer worker` imports the app's `include` list: the worker's task and the chord callback."""
    from ccmatrix.celery_app import make_app
    from ccmatrix.contract import FINISH_RUN_TASK, RUN_CELL_TASK

    app = make_app(broker="memory://", backend="cache+memory://")
    assert set(app.conf.include) == {"worker.tasks", "producer.callback"}
    app.loader.import_default_modules()
    assert {RUN_CELL_TASK, FINISH_RUN_TASK} <= set(app.tasks)
    import producer

    assert producer.app is producer.celery
