"""The published page in real headless Chromium: every requirement of issue 6, with a screenshot each."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from ccmatrix.matrix import to_json
from ccmatrix.publish.page import render_page
from ccmatrix.publish.samples import matrix, wide_matrix

pytestmark = pytest.mark.browser

STATUSES = ["pass", "fail", "error", "not_applicable", "not_tested"]


def page_for(m) -> str:
    return render_page(json.loads(to_json(m)))


def test_every_status_renders_with_icon_and_distinct_colours(open_page, screenshot_dir):
    page, requests = open_page(page_for(matrix()))
    page.wait_for_selector("[data-testid=matrix]")
    page.screenshot(path=screenshot_dir / "01-every-status.png", full_page=True)
    seen = {}
    for status in STATUSES:
        cell = page.locator(f"td[data-status={status}]").first
        assert cell.is_visible(), status
        button = cell.locator("button")
        seen[status] = button.evaluate(
            "b => { const s = getComputedStyle(b); return [s.backgroundColor, s.backgroundImage, s.color, b.innerText]; }"
        )
    icons = {"pass": "✓", "fail": "✗", "error": "⚠"}
    for status, icon in icons.items():
        assert icon in seen[status][3], (status, seen[status])
    # error must not look like fail: different colour and a pattern
    assert seen["error"][:3] != seen["fail"][:3]
    assert "gradient" in seen["error"][1]
    assert len({tuple(v[:3]) for v in seen.values()}) == len(STATUSES)
    assert page.locator("[data-testid=count-fail]").get_attribute("data-count") == "1"
    assert page.locator("td.cell").count() == 6
    assert requests == []
    assert page.js_errors == []


def test_tooltip_shows_error_reason_or_passing(open_page, screenshot_dir):
    m = matrix()
    page, _ = open_page(page_for(m))
    tooltip = page.locator("[data-testid=tooltip]")
    assert not tooltip.is_visible()
    page.hover("[data-testid=cell-basic_messaging-bedrock_invoke] button")
    tooltip.wait_for(state="visible")
    # a non-pass cell names its cause first, then its error
    assert tooltip.inner_text() == "Cause: gateway\n" + m.features[0].providers["bedrock_invoke"].error
    page.screenshot(path=screenshot_dir / "02-tooltip.png")
    page.hover("[data-testid=cell-basic_messaging-anthropic] button")
    assert tooltip.inner_text() == "passing"
    page.hover("[data-testid=cell-streaming-vertex_ai] button")
    assert tooltip.inner_text() == "quota exhausted before this cell ran"  # no tier ran: no cause to name
    page.hover("h1")
    tooltip.wait_for(state="hidden")


def test_detail_view_shows_tiers_evidence_and_fidelity(open_page, screenshot_dir):
    page, _ = open_page(page_for(matrix()))
    detail = page.locator("[data-testid=detail]")
    assert not detail.is_visible()
    page.click("[data-testid=cell-basic_messaging-bedrock_invoke] button")
    detail.wait_for(state="visible")
    assert "Basic messaging × Bedrock (Invoke)" == page.locator("[data-testid=detail-title]").inner_text()
    tiers = page.locator("[data-testid=detail-tiers] tbody tr")
    assert tiers.count() == 3
    assert [tiers.nth(i).get_attribute("data-tier") for i in range(3)] == ["haiku", "sonnet", "opus"]
    assert tiers.nth(0).get_attribute("data-status") == "fail"
    assert "1.00 s" in tiers.nth(0).inner_text()
    evidence = page.locator("[data-testid=evidence-haiku]").inner_text()
    for expected in ("API Error: 500", "500", "POST /v1/messages → 400", "result_text == 'PONG'"):
        assert expected in evidence
    page.screenshot(path=screenshot_dir / "03-detail-fail.png")
    page.click("[data-testid=detail-close]")
    detail.wait_for(state="hidden")

    page.click("[data-testid=cell-streaming-anthropic] button")
    detail.wait_for(state="visible")
    records = page.locator("[data-testid=fidelity-cell-records] tbody tr")
    assert records.count() == 1
    row = records.first.inner_text()
    for expected in ("body.max_tokens", "changed", "32000", "4096", "lossy", "clamp", "provider maximum"):
        assert expected in row
    page.screenshot(path=screenshot_dir / "04-detail-fidelity.png")
    page.keyboard.press("Escape")
    detail.wait_for(state="hidden")

    page.click("[data-testid=cell-basic_messaging-vertex_ai] button")
    assert "egress blocked" in page.locator("[data-testid=evidence-haiku]").inner_text()


RECOMMENDED = {"name": "recommended", "settings": {"general_settings": {"forward_client_headers_to_llm_api": True},
                                                  "litellm_settings": {"drop_params": True, "modify_params": True}}}


def test_banner_relative_time_when_recent(open_page, screenshot_dir):
    m = matrix(generated_at=datetime.now(timezone.utc) - timedelta(minutes=5), litellm_version="1.106.2",
               claude_code_version="2.1.197", gateway_profile=RECOMMENDED)
    page, _ = open_page(page_for(m))
    assert page.locator("[data-testid=litellm-version]").inner_text() == "1.106.2"
    assert page.locator("[data-testid=claude-code-version]").inner_text() == "2.1.197"
    # the gateway profile sits next to the versions, with its settings
    assert page.locator("[data-testid=gateway-profile]").inner_text() == "recommended"
    settings = page.locator("[data-testid=gateway-settings]").inner_text()
    assert settings == "(forward_client_headers_to_llm_api, drop_params, modify_params)", settings
    title = page.locator("[data-testid=gateway-profile]").locator("..").get_attribute("title")
    assert "litellm_settings.drop_params: true" in title and "general_settings.forward_client_headers_to_llm_api" in title
    banner = page.locator("[data-testid=banner]").inner_text()
    assert banner.index("2.1.197") < banner.index("Gateway profile recommended") < banner.index("Last updated")
    updated = page.locator("[data-testid=updated]")
    assert updated.get_attribute("data-mode") == "relative"
    assert updated.inner_text() == "5 minutes ago"
    page.locator("[data-testid=banner]").screenshot(path=screenshot_dir / "05-banner-relative.png")


@pytest.mark.parametrize(
    "zone, clock, label",
    [("America/New_York", "07:00 AM", "EST"), ("Asia/Tokyo", "09:00 PM", "GMT+9")],
)
def test_banner_absolute_time_in_viewer_zone_when_old(open_page, screenshot_dir, zone, clock, label):
    m = matrix(generated_at=datetime(2024, 1, 15, 12, 0, tzinfo=timezone.utc),
               gateway_profile={"name": "defaults", "settings": {}})
    page, _ = open_page(page_for(m), timezone_id=zone)
    assert page.locator("[data-testid=gateway-profile]").inner_text() == "defaults"
    assert page.locator("[data-testid=gateway-settings]").inner_text() == "(nothing set)"
    updated = page.locator("[data-testid=updated]")
    assert updated.get_attribute("data-mode") == "absolute"
    text = updated.inner_text()
    assert "Jan 15, 2024" in text and clock in text and label in text and f"({zone})" in text, text
    assert "ago" not in text
    page.locator("[data-testid=banner]").screenshot(path=screenshot_dir / f"06-banner-absolute-{zone.replace('/', '-')}.png")


def test_unsupported_schema_version_shows_placeholder(open_page, screenshot_dir):
    document = json.loads(to_json(matrix()))
    document["schema_version"] = "2"
    page, _ = open_page(render_page(document))
    placeholder = page.locator("[data-testid=schema-error]")
    placeholder.wait_for(state="visible")
    assert "schema_version" in placeholder.inner_text() and '"2"' in placeholder.inner_text()
    assert page.locator("[data-testid=matrix]").count() == 0
    assert page.locator("td.cell").count() == 0
    page.screenshot(path=screenshot_dir / "07-schema-placeholder.png")


def test_supported_page_has_no_placeholder(open_page):
    page, _ = open_page(page_for(matrix()))
    assert page.locator("[data-testid=schema-error]").count() == 0


def test_narrow_viewport_scrolls_horizontally_without_reflow(open_page, screenshot_dir):
    page, _ = open_page(page_for(wide_matrix()), width=375, height=740)
    page.wait_for_selector("[data-testid=matrix]")
    page.screenshot(path=screenshot_dir / "08-narrow-375.png", full_page=True)
    sizes = page.evaluate(
        """() => {
        const box = document.querySelector('[data-testid=matrix-scroll]');
        const rows = [...document.querySelectorAll('[data-testid=matrix] tbody tr')];
        return {
          scrollWidth: box.scrollWidth, clientWidth: box.clientWidth,
          docWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
          rowTops: rows.map(r => new Set([...r.querySelectorAll('td.cell')].map(td => td.getBoundingClientRect().top)).size),
          minCellWidth: Math.min(...[...document.querySelectorAll('td.cell')].map(td => td.getBoundingClientRect().width)),
          lineHeights: [...document.querySelectorAll('td.cell button')].map(b => b.getBoundingClientRect().height),
        };
    }"""
    )
    assert sizes["scrollWidth"] > sizes["clientWidth"], sizes
    assert sizes["docWidth"] <= sizes["innerWidth"], sizes  # the page itself does not grow sideways
    assert all(n == 1 for n in sizes["rowTops"]), sizes  # each row stays on one line
    assert sizes["minCellWidth"] >= 100, sizes  # cells keep their width instead of squeezing
    assert max(sizes["lineHeights"]) < 60, sizes  # labels do not wrap
    page.locator("[data-testid=matrix-scroll]").evaluate("e => e.scrollLeft = e.scrollWidth")
    assert page.locator("[data-testid=matrix-scroll]").evaluate("e => e.scrollLeft") > 0
    page.screenshot(path=screenshot_dir / "09-narrow-375-scrolled.png")


def test_keyboard_focus_shows_tooltip_and_enter_opens_detail(open_page):
    m = matrix()
    page, _ = open_page(page_for(m))
    page.focus("[data-testid=cell-basic_messaging-vertex_ai] button")
    tooltip = page.locator("[data-testid=tooltip]")
    tooltip.wait_for(state="visible")
    assert tooltip.inner_text() == "Cause: infrastructure\nproxy did not boot within 120 s"
    page.keyboard.press("Enter")
    page.locator("[data-testid=detail]").wait_for(state="visible")
    assert "proxy did not boot" in page.locator("[data-testid=detail-message]").inner_text()


def test_detail_view_fits_a_narrow_viewport(open_page, screenshot_dir):
    page, _ = open_page(page_for(matrix()), width=375, height=740)
    page.locator("[data-testid=matrix-scroll]").evaluate("e => e.scrollLeft = e.scrollWidth")
    page.click("[data-testid=cell-basic_messaging-vertex_ai] button")
    detail = page.locator("[data-testid=detail]")
    detail.wait_for(state="visible")
    box = detail.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375
    page.screenshot(path=screenshot_dir / "10-narrow-detail.png")


def test_without_javascript_a_plain_table_is_shown(browser, tmp_path, screenshot_dir):
    path = tmp_path / "index.html"
    path.write_text(page_for(matrix()), encoding="utf-8")
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(path.as_uri())
        text = page.locator("body").inner_text()
        assert "✗ fail" in text and "⚠ error" in text and "1.106.2" in text
        assert "gateway profile" not in text  # a document without the field claims none
        path.write_text(page_for(matrix(gateway_profile={"name": "recommended", "settings": {}})), encoding="utf-8")
        page.goto(path.as_uri())
        assert "gateway profile recommended" in page.locator("body").inner_text()
        page.screenshot(path=screenshot_dir / "11-noscript.png")
    finally:
        context.close()


# ---- issue 10: who is to blame, what the gateway answered, how each column ran ----------------------------------

def _order(page, *selectors):
    """The selectors' elements in document order (each must exist once)."""
    return page.evaluate(
        """sels => {
        const nodes = sels.map(s => document.querySelector(s));
        if (nodes.some(n => !n)) return null;
        return nodes.every((n, i) => i === 0 || (nodes[i - 1].compareDocumentPosition(n) & Node.DOCUMENT_POSITION_FOLLOWING));
    }""",
        list(selectors),
    )


def test_detail_shows_the_gateway_answer_first_then_the_cause_then_the_evidence(open_page, screenshot_dir):
    from ccmatrix.publish.samples import GATEWAY_BODY

    page, _ = open_page(page_for(matrix()))
    page.click("[data-testid=cell-basic_messaging-bedrock_invoke] button")
    page.locator("[data-testid=detail]").wait_for(state="visible")
    section = "[data-testid=evidence-haiku]"
    answer = page.locator(f"{section} [data-testid=gateway-response-haiku]")
    assert "The gateway answered 500" in answer.inner_text()
    # the body verbatim, as text in a <pre> (it contains <tool_choice>: escaped, not markup)
    assert page.locator("[data-testid=gateway-body-haiku]").evaluate("e => e.tagName") == "PRE"
    assert page.locator("[data-testid=gateway-body-haiku]").text_content() == GATEWAY_BODY
    assert page.locator(f"{section} tool_choice").count() == 0
    # order inside the tier: heading, the gateway's answer, the cause, then the existing evidence
    assert _order(page, f"{section} h4", f"{section} [data-testid=gateway-response-haiku]",
                  f"{section} [data-testid=cause-haiku]", f"{section} dl.evidence") is True
    first = page.locator(f"{section} > :nth-child(2)")
    assert first.get_attribute("data-testid") == "gateway-response-haiku"
    cause = page.locator("[data-testid=cause-haiku]")
    assert cause.inner_text() == "gateway" and cause.get_attribute("data-cause") == "gateway"
    assert "cause" in cause.evaluate("e => getComputedStyle(e, '::before').content")  # labelled "cause: gateway"
    # upstream calls show the emulator's own tag and reason
    calls = page.locator(f"{section} [data-field=upstream_calls] li")
    assert calls.first.inner_text() == "POST /v1/messages → 400 · emulator: refused — tool_choice is not a field of this API"
    # the tiers table has a cause column too
    assert page.locator("[data-testid=detail-tiers] tr[data-tier=haiku] [data-col=cause]").inner_text() == "gateway"
    page.locator("[data-testid=detail]").screenshot(path=screenshot_dir / "12-detail-gateway-answer-cause.png")


def test_an_emulator_gap_tier_gets_its_badge_and_the_emulators_reason(open_page, screenshot_dir):
    page, _ = open_page(page_for(matrix()))
    page.click("[data-testid=cell-basic_messaging-bedrock_invoke] button")
    cause = page.locator("[data-testid=cause-opus]")
    cause.wait_for(state="visible")
    assert cause.inner_text() == "emulator gap" and cause.get_attribute("data-cause") == "emulator_gap"
    assert page.locator("[data-testid=gateway-response-opus]").count() == 0  # no answer recorded: nothing shown
    call = page.locator("[data-testid=evidence-opus] [data-field=upstream_calls] li").first
    assert call.get_attribute("data-upstream-cause") == "emulator_gap"
    assert "emulator: emulator_gap — the emulator does not know the field 'output_config.effort'" in call.inner_text()
    # the dialog's head names only the causes of the tiers that give the cell its colour (fail), not opus's gap
    head = page.locator("[data-testid=detail-head] .cause-badge")
    assert [head.nth(i).get_attribute("data-cause") for i in range(head.count())] == ["gateway"]
    cause.scroll_into_view_if_needed()
    page.locator("[data-testid=evidence-opus]").screenshot(path=screenshot_dir / "13-detail-emulator-gap.png")


def test_a_hostile_gateway_body_stays_text(open_page):
    from ccmatrix.outcomes import GatewayResponse
    from ccmatrix.publish.samples import cell, tier

    body = '</pre><img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
    tiers = {"haiku": tier("fail", error="bad", gateway_response=GatewayResponse(status=502, body=body, source="recorder"))}
    page, requests = open_page(page_for(matrix({"basic": {"anthropic": cell("fail", error="bad", tiers=tiers)}})))
    page.click("[data-testid=cell-basic-anthropic] button")
    pre = page.locator("[data-testid=gateway-body-haiku]")
    pre.wait_for(state="visible")
    assert pre.text_content() == body
    assert "The gateway answered 502 (recorded between the CLI and the gateway)" in \
        page.locator("[data-testid=gateway-response-haiku]").inner_text()
    assert page.locator("#detail-body img, #detail-body script").count() == 0
    assert page.evaluate("window.__pwned") is None and requests == [] and page.js_errors == []


def test_a_tier_without_evidence_still_shows_its_cause(open_page):
    from ccmatrix.matrix import TierDetail
    from ccmatrix.publish.samples import cell

    tiers = {"haiku": TierDetail(status="error", error="time limit: the job did not finish", cause="infrastructure")}
    page, _ = open_page(page_for(matrix({"basic": {"azure": cell("error", error="time limit", tiers=tiers)}})))
    page.click("[data-testid=cell-basic-azure] button")
    section = page.locator("[data-testid=evidence-haiku]")
    section.wait_for(state="visible")
    assert section.locator("[data-testid=cause-haiku]").inner_text() == "infrastructure"
    assert "no evidence recorded" in section.inner_text()


def test_header_marks_emulated_and_real_columns_with_a_legend(open_page, screenshot_dir):
    page, _ = open_page(page_for(matrix()))
    page.wait_for_selector("[data-testid=matrix]")
    marks = {p: page.locator(f"[data-testid=upstream-{p}]") for p in ("anthropic", "bedrock_invoke", "vertex_ai")}
    assert {p: m.inner_text().lower() for p, m in marks.items()} == {
        "anthropic": "emulated", "bedrock_invoke": "emulated", "vertex_ai": "real"}
    assert page.locator("th[data-provider=vertex_ai]").get_attribute("data-upstream") == "real"
    # under the provider's name, inside its header cell
    header = page.locator("[data-testid=provider-anthropic]")
    assert header.inner_text().splitlines()[0] == "Anthropic"
    name_top = header.evaluate("th => { const r = document.createRange(); r.selectNodeContents(th.firstChild);"
                               " return r.getBoundingClientRect().bottom; }")
    assert marks["anthropic"].bounding_box()["y"] >= name_top - 1
    # real and emulated marks look different
    styles = [m.evaluate("e => getComputedStyle(e).color + getComputedStyle(e).backgroundColor") for m in marks.values()]
    assert styles[0] == styles[1] != styles[2]
    legend = page.locator("[data-testid=legend]")
    assert "emulated" in legend.locator("[data-testid=legend-upstream-emulator]").inner_text().lower()
    assert "real provider" in legend.locator("[data-testid=legend-upstream-real]").inner_text()
    assert page.locator("[data-testid=legend-upstream-mixed]").count() == 0  # only when a column is mixed
    assert "emulator gap" in page.locator("[data-testid=legend-causes]").inner_text()
    page.locator("[data-testid=matrix-scroll]").screenshot(path=screenshot_dir / "14-header-upstream-marks.png")
    page.locator("[data-testid=legend]").screenshot(path=screenshot_dir / "15-legend-upstream.png")


def test_mixed_and_old_documents(open_page):
    page, _ = open_page(page_for(matrix(upstreams={"anthropic": "mixed"})))
    assert page.locator("[data-testid=upstream-anthropic]").inner_text() == "mixed"
    assert page.locator("[data-testid=legend-upstream-mixed]").count() == 1
    document = json.loads(to_json(matrix()))
    del document["providers_detail"]  # written before the field: the page still renders, with no marks
    page, _ = open_page(render_page(document))
    page.wait_for_selector("[data-testid=matrix]")
    assert page.locator("[data-testid^=upstream-]").count() == 0
    assert page.locator("[data-testid^=legend-upstream-]").count() == 0
    assert page.locator("[data-testid=gateway-profile]").count() == 0  # no gateway_profile field: no claim
    assert page.js_errors == []


def test_tooltip_of_a_non_pass_cell_names_its_cause(open_page, screenshot_dir):
    page, _ = open_page(page_for(wide_matrix()))
    tooltip = page.locator("[data-testid=tooltip]")
    seen = {}
    for td in page.locator("td.cell").all():
        status, cause = td.get_attribute("data-status"), td.get_attribute("data-cause")
        if status in ("fail", "error") and cause not in seen:
            td.locator("button").hover()
            tooltip.wait_for(state="visible")
            seen[cause] = tooltip.inner_text().splitlines()[0]
        if status in ("pass", "not_applicable"):
            assert cause == "", (status, cause)
    assert seen == {"gateway": "Cause: gateway", "provider": "Cause: provider", "infrastructure": "Cause: infrastructure",
                    "emulator_gap": "Cause: emulator gap", "client": "Cause: client"}
    page.hover("[data-testid=cell-tool_use_round_trip-anthropic] button")
    page.screenshot(path=screenshot_dir / "16-tooltip-cause.png")


def test_run_report_lists_the_emulator_gaps(open_page):
    page, _ = open_page(page_for(matrix()))
    page.click("[data-testid=run-report] summary")
    gaps = page.locator("[data-testid=emulator-gaps] li")
    assert gaps.count() == 1
    assert gaps.first.inner_text().startswith("Basic messaging × Bedrock (Invoke) · opus: emulator gap:")
