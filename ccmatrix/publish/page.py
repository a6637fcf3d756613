"""The self-contained matrix page (M1: a plain server-rendered table with the JSON embedded)."""
from __future__ import annotations

import html
import json
from typing import Any

ICONS = {"pass": "✓", "fail": "✗", "error": "⚠", "not_applicable": "–", "not_tested": "?"}


def embed_json(document: dict[str, Any]) -> str:
    """JSON safe inside a <script> element (no `</script>` or `<!--` can close it)."""
    text = json.dumps(document, ensure_ascii=False, sort_keys=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e").replace(
        "\u2028", "\\u2028").replace("\u2029", "\\u2029")


def render_page(document: dict[str, Any]) -> str:
    esc = html.escape
    providers = document.get("providers", [])
    names = document.get("provider_names", {})
    head = "".join(f"<th>{esc(names.get(p, p))}</th>" for p in providers)
    rows = []
    for feature in document.get("features", []):
        cells = []
        for p in providers:
            cell = feature.get("providers", {}).get(p, {})
            status = cell.get("status", "not_tested")
            tip = cell.get("error") or cell.get("reason") or ("passing" if status == "pass" else status)
            cells.append(f'<td class="{esc(status)}" title="{esc(tip)}">{ICONS.get(status, "")} {esc(status)}</td>')
        rows.append(f"<tr><th>{esc(feature.get('name', feature.get('id', '')))}</th>{''.join(cells)}</tr>")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Claude Code × LiteLLM compatibility matrix</title>
<style>td.pass{{background:#d4f7d4}}td.fail{{background:#f7d4d4}}td.error{{background:#ffe8b0}}</style></head>
<body><h1>Claude Code × LiteLLM compatibility matrix</h1>
<p>LiteLLM {esc(str(document.get('litellm_version')))} · Claude Code {esc(str(document.get('claude_code_version')))}
 · generated {esc(str(document.get('generated_at')))} · run {esc(str(document.get('run_id')))}</p>
<table><thead><tr><th>Feature</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>
<script type="application/json" id="matrix-data">{embed_json(document)}</script>
</body></html>
"""
