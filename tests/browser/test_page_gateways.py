"""The page of a run of three gateways in real headless Chromium (issue 17): a tab per gateway with its release and
profile, and a comparison view whose marks are checked against the JSON documents."""
from __future__ import annotations

import json

import pytest

from ccmatrix.matrix import to_json
from ccmatrix.publish.page import render_page
from ccmatrix.publish.samples import gateways_run, matrix

pytestmark = pytest.mark.browser


def _documents():
    return [json.loads(to_json(m)) for m in gateways_run()]


def _page(documents):
    gateways = [{"matrix": d, "history": {}, "file": f"compatibility-matrix-{d['gateway']['name']}.json"}
                for d in documents]
    return render_page(documents[0], {}, gateways=gateways)


def _statuses(document):
    return {(row["id"], p): cell["status"] for row in document["features"] for p, cell in row["providers"].items()}


def test_a_tab_per_gateway_with_its_release_and_profile(open_page, screenshot_dir):
    documents = _documents()
    page, requests = open_page(_page(documents))
    page.wait_for_selector("[data-testid=gateway-tabs]")
    tabs = page.locator("[data-testid=gateway-tabs] [role=tab]")
    assert [tabs.nth(i).get_attribute("data-gateway") for i in range(tabs.count())] == [
        "litellm", "portkey", "claude-code-router", "compare"]
    assert page.locator("[data-testid=tab-litellm]").get_attribute("aria-selected") == "true"
    for document in documents:
        g = document["gateway"]
        assert page.locator(f"[data-testid=tab-version-{g['name']}]").inner_text() == g["version"]
        assert g["profile"] in page.locator(f"[data-testid=tab-profile-{g['name']}]").inner_text()
    assert page.locator("[data-testid=litellm-version]").inner_text() == "1.106.2"
    for document in documents:
        name = document["gateway"]["name"]
        page.click(f"[data-testid=tab-{name}]")
        assert page.locator(f"[data-testid=tab-{name}]").get_attribute("aria-selected") == "true"
        assert page.locator("[data-testid=gateway-panel]").get_attribute("data-gateway") == name
        if name != "litellm":
            assert page.locator("[data-testid=gateway-version]").inner_text() == document["gateway"]["version"]
            assert page.locator("[data-testid=litellm-version]").count() == 0
        assert page.locator("[data-testid=gateway-profile]").inner_text() == document["gateway"]["profile"]
        for (feature, provider), status in _statuses(document).items():
            assert page.locator(f"[data-testid=cell-{feature}-{provider}]").get_attribute("data-status") == status
        page.screenshot(path=screenshot_dir / f"gateways-tab-{name}.png", full_page=True)
    assert requests == [] and page.js_errors == []


def test_the_comparison_has_one_mark_per_gateway_per_cell_as_in_the_json(open_page, screenshot_dir):
    documents = _documents()
    page, requests = open_page(_page(documents))
    page.click("[data-testid=tab-compare]")
    page.wait_for_selector("[data-testid=compare]")
    page.screenshot(path=screenshot_dir / "gateways-compare.png", full_page=True)
    cells = _statuses(documents[0])
    assert page.locator("[data-testid=compare] td.compare-cell").count() == len(cells)
    assert page.locator("[data-testid=compare] [data-gateway]").count() == len(cells) * len(documents)
    distinct = set()
    for feature, provider in cells:
        marks = page.locator(f"[data-testid=compare-{feature}-{provider}] [data-gateway]")
        assert [marks.nth(i).get_attribute("data-gateway") for i in range(marks.count())] == [
            d["gateway"]["name"] for d in documents]  # always in the run's order
        for document in documents:
            name = document["gateway"]["name"]
            mark = page.locator(f"[data-testid=mark-{name}-{feature}-{provider}]")
            expected = _statuses(document)[(feature, provider)]
            assert mark.get_attribute("data-status") == expected, (name, feature, provider)
            distinct.add((feature, provider, expected))
    assert len({s for _, _, s in distinct}) >= 4  # the fixture really differs between gateways
    legend = page.locator("[data-testid=compare-legend]")
    for document in documents:
        g = document["gateway"]
        assert f"{g['display_name']} {g['version']}" in legend.locator(f"[data-testid=legend-gateway-{g['name']}]").inner_text()
        assert page.locator(f"[data-testid=compare-version-{g['name']}]").inner_text() == g["version"]
    assert requests == [] and page.js_errors == []


def test_a_mark_opens_that_gateways_cell(open_page):
    documents = _documents()
    page, _ = open_page(_page(documents))
    page.click("[data-testid=tab-compare]")
    feature, provider = next((f, p) for (f, p), s in _statuses(documents[1]).items() if s == "fail")
    page.click(f"[data-testid=mark-portkey-{feature}-{provider}]")
    page.locator("[data-testid=detail]").wait_for(state="visible")
    assert page.locator("[data-testid=tab-portkey]").get_attribute("aria-selected") == "true"
    assert page.locator("[data-testid=detail-head] .badge").get_attribute("data-status") == "fail"
    assert page.js_errors == []


def test_one_gateway_shows_no_tabs(open_page):
    page, _ = open_page(render_page(json.loads(to_json(matrix()))))
    page.wait_for_selector("[data-testid=matrix]")
    assert page.locator("[data-testid=gateway-tabs]").count() == 0
    assert page.locator("h1").inner_text() == "Claude Code × LiteLLM compatibility matrix"
    assert page.js_errors == []


def test_a_run_of_one_other_gateway_names_it(open_page):
    portkey = _documents()[1]
    page, _ = open_page(render_page(portkey))
    page.wait_for_selector("[data-testid=matrix]")
    assert page.locator("h1").inner_text() == "Claude Code × Portkey compatibility matrix"
    assert page.locator("[data-testid=gateway-version]").inner_text() == "1.15.2"
    assert page.locator("[data-testid=litellm-version]").count() == 0 and page.js_errors == []


def test_each_tab_shows_its_own_gateways_timeline(open_page, tmp_path):
    from ccmatrix.publish import publish_gateways
    from ccmatrix.settings import Settings

    settings = Settings(out_dir=tmp_path / "out", history_dir=tmp_path / "history", cache_dir=tmp_path / "cache",
                        publishers="directory")
    for run_id in ("run-1", "run-2"):
        assert publish_gateways(gateways_run(run_id=run_id), settings).published
    page, _ = open_page((tmp_path / "out" / "index.html").read_text())
    page.click("[data-testid=tab-portkey]")
    page.click("[data-testid=cell-basic_messaging-anthropic] button")
    timeline = page.locator("[data-testid=detail-timeline]")
    timeline.wait_for(state="visible")
    assert timeline.locator("thead th").nth(1).inner_text() == "Portkey"
    rows = timeline.locator("tbody tr")
    assert [rows.nth(i).get_attribute("data-run") for i in range(rows.count())] == ["run-2", "run-1"]
    assert {rows.nth(i).locator("td").nth(1).inner_text() for i in range(rows.count())} == {"1.15.2"}
    assert page.js_errors == []
