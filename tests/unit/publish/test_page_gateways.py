"""The page of a run of several gateways (issue 17): every gateway's matrix embedded for the tabs and the comparison,
a plain table per gateway without JavaScript; one gateway gives the single-gateway page of before."""
from __future__ import annotations

import json

from ccmatrix.matrix import to_json
from ccmatrix.publish.page import render_page
from ccmatrix.publish.samples import gateways_run, matrix


def _embedded(page: str, element: str):
    return json.loads(page.split(f'<script type="application/json" id="{element}">', 1)[1].split("</script>", 1)[0])


def _documents():
    return [json.loads(to_json(m)) for m in gateways_run()]


def test_every_gateway_is_embedded_in_the_run_order_with_its_history():
    documents = _documents()
    gateways = [{"matrix": d, "history": {"runs": [{"run_id": f"r-{i}"}]}, "file": f"f{i}.json"}
                for i, d in enumerate(documents)]
    page = render_page(documents[0], gateways[0]["history"], gateways=gateways)
    embedded = _embedded(page, "gateways-data")
    assert [g["matrix"]["gateway"]["name"] for g in embedded] == ["litellm", "portkey", "claude-code-router"]
    assert [g["history"]["runs"][0]["run_id"] for g in embedded] == ["r-0", "r-1", "r-2"]
    assert _embedded(page, "matrix-data")["gateway"]["name"] == "litellm"
    noscript = page.split("<noscript>", 1)[1].split("</noscript>", 1)[0]
    assert [part.split("</h2>")[0] for part in noscript.split("<h2>")[1:]] == [
        "LiteLLM 1.106.2", "Portkey 1.15.2", "claude-code-router 2.0.0"]
    assert noscript.count("<table") == 3


def test_a_single_gateway_gives_the_single_gateway_page():
    document = json.loads(to_json(matrix()))
    alone = render_page(document)
    assert _embedded(alone, "gateways-data") == []
    assert render_page(document, gateways=[{"matrix": document, "history": {}, "file": "x.json"}]) == alone
    assert "<h2>" not in alone.split("<noscript>", 1)[1].split("</noscript>", 1)[0]


def test_another_gateways_text_cannot_break_out_of_the_page():
    documents = _documents()
    documents[1]["features"][0]["providers"]["anthropic"]["reason"] = "</script><script>alert(1)</script>"
    documents[1]["gateway"]["display_name"] = "<b>Portkey</b>"
    page = render_page(documents[0], gateways=[{"matrix": d, "history": {}, "file": "f.json"} for d in documents])
    assert "<script>alert(1)" not in page and "<b>Portkey</b>" not in page
    assert _embedded(page, "gateways-data")[1]["matrix"]["gateway"]["display_name"] == "<b>Portkey</b>"
