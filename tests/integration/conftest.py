"""In-process cell runner: the real proxy, the real CLI and the emulator in a sandbox, without Celery.

One environment (sandbox + emulator + proxy) is shared by the whole session, as a worker process shares it.
"""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def run_cell_here(tools):
    from ccmatrix.manifest import load_manifest
    from ccmatrix.settings import get_settings
    from ccmatrix.contract import CellJob
    from worker.cell import run_cell
    from worker.environment import shutdown_all

    manifest = load_manifest()
    counter = {"n": 0}

    def run(feature: str, provider: str, tiers=("sonnet",), faults=(), **kw):
        counter["n"] += 1
        job = CellJob(run_id=f"test{counter['n']}", feature=feature, provider=provider, tiers=list(tiers),
                      litellm_version=manifest.litellm_version, claude_code_version=manifest.claude_code_version,
                      manifest=manifest.model_dump(mode="json"), faults=list(faults), **kw)
        return run_cell(job, get_settings())

    yield run
    shutdown_all()
