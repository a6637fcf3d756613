"""The resolvers against the real registries (PyPI's JSON API, the npm registry), when they answer."""
from __future__ import annotations

import httpx
import pytest

from ccmatrix import resolve as r

pytestmark = pytest.mark.integration


def _reachable(url: str) -> bool:
    try:
        return httpx.head(url, timeout=10, follow_redirects=True).status_code < 500
    except httpx.HTTPError:
        return False


@pytest.mark.skipif(not _reachable("https://registry.npmjs.org/"), reason="npm registry unreachable")
def test_latest_claude_code_from_npm_is_a_final_release_old_enough():
    got = r.resolve_claude_code("latest", min_age_days=3)
    assert "-" not in got.version and got.source.startswith("https://registry.npmjs.org/")
    assert all("less than 3 days" in s["reason"] for s in got.skipped)


@pytest.mark.skipif(not _reachable("https://pypi.org/"), reason="PyPI unreachable")
def test_litellm_finals_from_pypi():
    finals = r.litellm_finals(r.fetch_json(r.PYPI_JSON.format(name="litellm")))
    assert len(finals) > 100 and all("rc" not in v and "dev" not in v for v in finals)
