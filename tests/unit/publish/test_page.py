import json
import re

from ccmatrix.matrix import SCHEMA_VERSION, to_json
from ccmatrix.publish.page import SUPPORTED_SCHEMA_VERSIONS, embed_json, plain_table, render_page
from ccmatrix.publish.samples import matrix


def page() -> str:
    return render_page(json.loads(to_json(matrix())))


def test_page_is_self_contained():
    html = page()
    # no external resource of any kind: scripts, styles, images, fonts, frames
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)
    assert "@import" not in html and "url(http" not in html
    assert "default-src 'none'" in html  # CSP forbids any fetch at view time


def test_page_supports_the_model_schema_version():
    assert SCHEMA_VERSION in SUPPORTED_SCHEMA_VERSIONS
    assert f'SUPPORTED_SCHEMA_VERSIONS = {json.dumps(list(SUPPORTED_SCHEMA_VERSIONS))}' in page()


def test_embedded_document_round_trips():
    document = json.loads(to_json(matrix()))
    html = render_page(document)
    data = re.search(r'<script type="application/json" id="matrix-data">(.*?)</script>', html, re.S).group(1)
    assert json.loads(data) == document


def test_embed_json_cannot_break_out():
    text = embed_json({"x": "</script><!-- \u2028 &"})
    assert "<" not in text and ">" not in text and "\u2028" not in text
    assert json.loads(text) == {"x": "</script><!-- \u2028 &"}


def test_slots_are_filled_once_even_if_data_contains_slot_names():
    m = matrix()
    m.features[0].name = "__NOSCRIPT__ __MATRIX_JSON__"
    html = render_page(json.loads(to_json(m)))
    assert html.count('id="matrix-data"') == 1
    assert "__NOSCRIPT__ __MATRIX_JSON__" in html  # the name itself, escaped in the noscript table


def test_noscript_table_escapes_and_shows_statuses():
    m = matrix()
    m.features[0].providers["bedrock_invoke"].error = '<img src=x onerror=alert(1)>"'
    table = plain_table(json.loads(to_json(m)))
    assert "<img" not in table and "&lt;img" in table
    for status in ("pass", "fail", "error", "not_applicable", "not_tested"):
        assert status in table


def test_samples_carry_the_attribution_fields():
    document = json.loads(to_json(matrix()))
    assert {d["upstream"] for d in document["providers_detail"].values()} == {"emulator", "real"}
    failing = document["features"][0]["providers"]["bedrock_invoke"]["tiers"]
    assert failing["haiku"]["cause"] == "gateway" and failing["haiku"]["evidence"]["gateway_response"]["status"] == 500
    assert failing["haiku"]["evidence"]["upstream_calls"][0]["cause"] == "refused"
    assert failing["opus"]["cause"] == "emulator_gap"
    assert document["report"]["emulator_gaps"][0]["tier"] == "opus"
    assert document["report"]["causes"]["emulator_gap"] == 1


def test_noscript_table_marks_emulated_columns_and_names_causes():
    table = plain_table(json.loads(to_json(matrix())))
    assert "Anthropic<br><small>emulated</small>" in table and "Vertex AI<br><small>real</small>" in table
    assert 'title="Cause: gateway\nhaiku: expected PONG' in table
    assert 'title="Cause: infrastructure\nproxy did not boot' in table
    document = json.loads(to_json(matrix()))
    del document["providers_detail"]  # a document from before the field: no mark, no error
    assert "<small>" not in plain_table(document)
