"""A real provider credential never reaches a result, a log or a published file.

The anthropic column is switched to the "real" provider by setting a (fake) key; this machine has no internet, so
the cell ends as an infrastructure error — and the key must appear in no file: the proxy's config names it.
"""
from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

pytestmark = pytest.mark.integration

SECRET = "sk-ant-api03-ccmatrix-test-secret-do-not-leak-0123456789"


def test_real_key_stays_out_of_results_logs_and_publications(tools, tmp_path):
    from ccmatrix.manifest import load_manifest
    from ccmatrix.matrix import build_matrix, to_json
    from ccmatrix.settings import get_settings
    from ccmatrix.contract import CellJob
    from worker.cell import run_cell
    from worker.environment import environment_for, shutdown_all

    manifest = load_manifest()
    settings = get_settings().model_copy(update={"anthropic_api_key": SecretStr(SECRET), "tier_retries": 0,
                                                 "keep_run_files": True,
                                                 "proxy_boot_timeout_s": 120})
    assert "anthropic" in settings.real_providers()
    assert SECRET not in repr(settings) and SECRET not in str(settings.model_dump())
    job = CellJob(run_id="secrets", feature="basic_messaging_non_streaming", provider="anthropic", tiers=["haiku"],
                  litellm_version=manifest.litellm_version, claude_code_version=manifest.claude_code_version,
                  manifest=manifest.model_dump(mode="json"))
    try:
        cell = run_cell(job, settings)
        root = environment_for(settings, real=True).root
    finally:
        shutdown_all()
    assert cell.status.value in ("error", "fail")  # no internet here: the real provider is unreachable
    result_text = cell.model_dump_json()
    assert SECRET not in result_text
    selection = manifest.select(["basic_messaging_non_streaming"], ["anthropic"], ["haiku"])
    published = to_json(build_matrix(manifest, selection, [cell], run_id="secrets", litellm_version="x",
                                     claude_code_version="y"))
    assert SECRET not in published
    # No file holds it: the proxy config names it (os.environ/...), the gateway process's environment has it.
    holders = [p for p in Path(root).rglob("*") if p.is_file() and SECRET in p.read_text(errors="ignore")]
    assert not holders, holders
    configs = list(Path(root).rglob("proxy/*.yaml"))
    assert configs and all("os.environ/CCMATRIX_ANTHROPIC_API_KEY" in p.read_text() for p in configs), configs
    for path in configs:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    logs = [p for p in Path(root).rglob("*.log")]
    assert logs, "the proxy wrote a log"
    for log in logs:
        assert SECRET not in log.read_text(errors="ignore"), log
