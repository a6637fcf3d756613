"""The page shows the emulator's strictness package versions in the banner (and nothing for older documents)."""
from __future__ import annotations

import json

import pytest

from ccmatrix.matrix import to_json
from ccmatrix.publish.page import render_page
from ccmatrix.publish.samples import matrix

pytestmark = pytest.mark.browser


def test_banner_lists_the_emulator_strictness_versions(open_page, screenshot_dir):
    m = matrix().model_copy(update={"emulator_strictness": {"botocore": "1.44.8", "anthropic": "2.14.0"}})
    page, requests = open_page(render_page(json.loads(to_json(m))))
    shown = page.locator("[data-testid=emulator-strictness]")
    assert shown.inner_text() == "anthropic 2.14.0, botocore 1.44.8"
    banner = page.locator("[data-testid=banner]").inner_text()
    assert banner.index("Claude Code") < banner.index("Emulator anthropic 2.14.0")
    page.locator("[data-testid=banner]").screenshot(path=screenshot_dir / "strictness-banner.png")
    assert requests == []


def test_an_older_document_shows_no_strictness(open_page):
    page, _ = open_page(render_page(json.loads(to_json(matrix()))))
    page.wait_for_selector("[data-testid=banner]")
    assert page.locator("[data-testid=emulator-strictness]").count() == 0
