"""Real-provider columns are honest: no tier passes without its decisive assertions.

A real column is simulated by giving the Azure column "real" credentials whose endpoint is an emulator on the
host's loopback: the worker then treats it exactly as a real provider — no sandbox, no fault control, and no
upstream capture to read — so every check must stand on what the provider answered, or say `not_tested`.
"""
from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx
import pytest

from ccmatrix.processes import wait_until

from ccmatrix.manifest import load_manifest
from worker.checks import load_check

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def host_emulator(tmp_path_factory):
    port = _free_port()
    data = tmp_path_factory.mktemp("real-emulator")
    proc = subprocess.Popen([sys.executable, "-m", "emulator", "--port", str(port), "--data-dir", str(data)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(url + "/", timeout=1).status_code == 200, timeout_s=30, interval_s=0.2,
                   what="the host emulator", retry_on=httpx.HTTPError)
    except TimeoutError as error:
        proc.kill()
        pytest.fail(str(error))
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def run_real(tools, host_emulator):
    from tests import emulator_credentials as credentials
    from ccmatrix.settings import get_settings
    from ccmatrix.contract import CellJob
    from worker.cell import run_cell
    from worker.environment import shutdown_all

    manifest = load_manifest()
    from pydantic import SecretStr

    settings = get_settings().model_copy(update={"azure_api_key": SecretStr(credentials.AZURE_API_KEY),
                                                 "azure_api_base": host_emulator, "tier_retries": 0})
    assert "azure" in settings.real_providers()
    counter = {"n": 0}

    def run(feature: str, **kw):
        counter["n"] += 1
        job = CellJob(run_id=f"real{counter['n']}", feature=feature, provider="azure", tiers=["sonnet"],
                      litellm_version=manifest.litellm_version, claude_code_version=manifest.claude_code_version,
                      manifest=manifest.model_dump(mode="json"), **kw)
        return run_cell(job, settings)

    yield run
    shutdown_all()


ROWS = [f.id for f in load_manifest().features if "azure" not in f.not_applicable and f.id != "long_context_1m"]


@pytest.mark.parametrize("feature", ROWS)
def test_no_real_column_passes_without_its_decisive_assertions(run_real, feature):
    cell = run_real(feature)
    assert cell.upstream == "real"
    tier = cell.tiers["sonnet"]
    check = load_check(load_manifest().feature(feature).check)
    assert check.decisive, f"{feature}: the check names no decisive assertion"
    assert tier.status.value != "error", tier.model_dump_json(indent=1)[:1500]
    if tier.status.value == "pass":
        ran = tier.evidence.decisive
        assert set(check.decisive) <= set(ran), f"{feature} passed without {set(check.decisive) - set(ran)}"
    if tier.status.value == "not_tested":
        assert "decisive" in (tier.reason or ""), tier.reason


def test_tool_search_through_a_gateway_that_drops_the_tool_never_passes(run_real):
    """LiteLLM told to drop every tool (its own additional_drop_params): the provider never sees the tool search."""
    cell = run_real("tool_search", proxy_params={"additional_drop_params": ["tools"]})
    tier = cell.tiers["sonnet"]
    assert tier.status.value in ("fail", "not_tested"), tier.model_dump_json(indent=1)[:1500]


def test_tool_search_passes_on_the_providers_own_answer(run_real):
    """The real-provider equivalent: the reply shows the provider ran the search and found the deferred tool."""
    cell = run_real("tool_search")
    tier = cell.tiers["sonnet"]
    assert tier.status.value == "pass", tier.model_dump_json(indent=1)[:1500]
    assert tier.evidence.upstream_calls == [], "nothing was read from a capture"
