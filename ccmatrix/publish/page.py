"""The self-contained matrix page: one HTML file, inline CSS and JS, the matrix JSON embedded; no network at view time.

The page renders the embedded document in the browser (the template is `page_template.html`); a plain table is
also rendered here, inside <noscript>, for readers without JavaScript. Next to the matrix, a second, small JSON
(`history-data`, from ccmatrix.publish.timeline.page_data) carries each cell's timeline over the kept runs and the
current run's automatic bisect results; without it the page shows the matrix alone.
"""
from __future__ import annotations

import html
import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any

from ccmatrix.publish.regressions import cell_cause

SUPPORTED_SCHEMA_VERSIONS = ("1",)
UPSTREAM_LABELS = {"emulator": "emulated", "real": "real", "mixed": "mixed", "unknown": "upstream unknown"}
ICONS = {"pass": "✓", "fail": "✗", "error": "⚠", "not_applicable": "–", "not_tested": "○"}
_SLOT = re.compile(r"__(MATRIX_JSON|HISTORY_JSON|GATEWAYS_JSON|NOSCRIPT)__")


@lru_cache(maxsize=1)
def _template() -> str:
    return resources.files("ccmatrix.publish").joinpath("page_template.html").read_text(encoding="utf-8")


def embed_json(document: Any) -> str:
    """JSON safe inside a <script> element: no `</script>`, `<!--` or line separator can break out of it."""
    text = json.dumps(document, ensure_ascii=False)
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def litellm_label(document: dict[str, Any] | None) -> str:
    """"LiteLLM 1.2.3", or a local tree / wheel's label ("LiteLLM local tree <path> (sha256 …, declares 1.x.y)")."""
    from ccmatrix.local_source import label

    document = document or {}
    source = document.get("litellm_source")
    return label(document.get("litellm_version"), source if isinstance(source, dict) else None)


def plain_table(document: dict[str, Any], bisects: dict[str, Any] | None = None) -> str:
    esc = html.escape
    bisects = bisects or {}
    if str(document.get("schema_version")) not in SUPPORTED_SCHEMA_VERSIONS:
        return f"<p>Unsupported matrix schema_version {esc(repr(document.get('schema_version')))}.</p>"
    providers = document.get("providers", [])
    names = document.get("provider_names", {})
    detail = document.get("providers_detail") or {}

    def header(p: str) -> str:
        upstream = (detail.get(p) or {}).get("upstream")
        mark = f"<br><small>{esc(UPSTREAM_LABELS.get(upstream, str(upstream)))}</small>" if upstream else ""
        return f"<th>{esc(names.get(p, p))}{mark}</th>"

    head = "".join(header(p) for p in providers)
    rows = []
    for feature in document.get("features", []):
        cells = []
        for p in providers:
            cell = feature.get("providers", {}).get(p) or {"status": "not_tested"}
            status = str(cell.get("status"))
            tip = cell.get("error") or cell.get("reason") or ("passing" if status == "pass" else status)
            cause = cell_cause(cell)
            if cause:
                tip = f"Cause: {cause.replace('emulator_gap', 'emulator gap')}\n{tip}"
            found = (bisects.get(f"{feature.get('id')}/{p}") or {}).get("text")
            note = f"<br><small>{esc(str(found))}</small>" if found else ""
            cells.append(f'<td title="{esc(str(tip))}">{ICONS.get(status, "?")} {esc(status)}{note}</td>')
        rows.append(f"<tr><th>{esc(str(feature.get('name') or feature.get('id')))}</th>{''.join(cells)}</tr>")
    # per tier, the model id each column was tested with (documents older than providers_detail.models: none)
    models = {p: (detail.get(p) or {}).get("models") for p in providers}
    foot = []
    for tier in document.get("tiers") or []:
        if not any(isinstance(m, dict) and tier in m for m in models.values()):
            continue
        tds = []
        for p in providers:
            m = models[p] if isinstance(models[p], dict) else {}
            value = m.get(tier) if tier in m else ""
            text = esc(str(value)) if value else ("not offered" if value is None else "")
            tds.append(f"<td><small>{text}</small></td>")
        foot.append(f"<tr><th><small>{esc(str(tier))} model</small></th>{''.join(tds)}</tr>")
    tfoot = f"<tfoot>{''.join(foot)}</tfoot>" if foot else ""
    profile = document.get("gateway_profile") or {}
    shown = f" · gateway profile {esc(str(profile['name']))}" if isinstance(profile, dict) and profile.get("name") else ""
    return (
        f"<p>{esc(gateway_label(document))} · Claude Code "
        f"{esc(str(document.get('claude_code_version')))}{shown} · generated {esc(str(document.get('generated_at')))}</p>"
        f"<table border=\"1\"><thead><tr><th>Feature</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody>{tfoot}</table>"
    )


def gateway_label(document: dict[str, Any] | None) -> str:
    """"LiteLLM 1.2.3" (or a local source's label) for LiteLLM's matrix, "<gateway> <release>" for another's."""
    record = (document or {}).get("gateway") or {}
    if not record or record.get("name") == "litellm":
        return litellm_label(document)
    return f"{record.get('display_name') or record.get('name')} {record.get('version')}"


def render_page(document: dict[str, Any], history: dict[str, Any] | None = None,
                gateways: list[dict[str, Any]] | None = None) -> str:
    """The page for a matrix document (the JSON-mode dump of a Matrix); `history`: the cell timelines and bisect
    results (ccmatrix.publish.timeline.page_data), or None. `gateways`: a run of several gateways, in the run's order,
    each {matrix, history, file} — the page then has a tab per gateway and a comparison view (`document` and
    `history` are the first tab's); with none, or one, the page is the single-gateway page."""
    history = history or {}
    gateways = gateways if gateways and len(gateways) > 1 else []
    if gateways:
        noscript = "".join(f"<h2>{html.escape(gateway_label(g['matrix']))}</h2>"
                           + plain_table(g["matrix"], (g.get("history") or {}).get("bisects")) for g in gateways)
    else:
        noscript = plain_table(document, history.get("bisects"))
    values = {"MATRIX_JSON": embed_json(document), "HISTORY_JSON": embed_json(history),
              "GATEWAYS_JSON": embed_json(gateways), "NOSCRIPT": noscript}
    return _SLOT.sub(lambda m: values[m.group(1)], _template())
