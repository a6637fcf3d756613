""""Which gateway keeps which feature": the README section written from a run's index of gateway matrices.

    index, documents = load_run(out_dir / "compatibility-matrix.index.json")
    text = keeps_section(index, documents)          # markdown, dated, with every gateway's release and profile
    write_section(Path("README.md"), text)          # between the markers, or appended with them

Per feature and gateway: how many of the columns it applies to pass, and the columns that do not, by status. A
column that is not applicable (by data, or because the gateway has no route to it) is named apart, never counted
against the gateway. Every document is validated (its JSON Schema, the index's model) before anything is written.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ccmatrix.publish.index import GatewayIndex

START = "<!-- which-gateway-keeps-which-feature:start -->"
END = "<!-- which-gateway-keeps-which-feature:end -->"
TITLE = "## Which gateway keeps which feature"
MARK = {"pass": "✅", "fail": "❌", "error": "⚠️", "not_tested": "⭕", "not_applicable": "➖"}
LABEL = {"fail": "fails", "error": "error", "not_tested": "not tested", "not_applicable": "n/a"}


class CompareError(ValueError):
    """The index or a matrix it names cannot be read or does not validate (one line)."""


def load_run(index_path: Path) -> tuple[GatewayIndex, list[dict[str, Any]]]:
    """The index and each gateway's matrix it lists (files relative to the index), all validated."""
    from ccmatrix.matrix import validate_document

    index_path = Path(index_path)
    try:
        index = GatewayIndex.model_validate_json(index_path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CompareError(f"cannot read the gateways' index {index_path}: {error.strerror or error}") from None
    except ValueError as error:
        raise CompareError(f"{index_path} is not a gateways' index: {_first_line(error)}") from None
    documents = []
    for entry in index.gateways:
        path = index_path.parent / entry.file
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            validate_document(document)
        except OSError as error:
            raise CompareError(f"cannot read {entry.name}'s matrix {path}: {error.strerror or error}") from None
        except Exception as error:  # not JSON, or not a valid matrix (jsonschema.ValidationError)
            raise CompareError(f"{entry.name}'s matrix {path} is not valid: "
                               f"{_first_line(getattr(error, 'message', error))}") from None
        if document.get("run_id") != index.run_id:
            raise CompareError(f"{path} is from run {document.get('run_id')}, the index from run {index.run_id}")
        documents.append(document)
    return index, documents


def _first_line(error: Any) -> str:
    return " ".join(str(error).split())[:300]


def _cell_of(document: dict[str, Any], feature: str, provider: str) -> dict[str, Any] | None:
    for row in document.get("features") or []:
        if row.get("id") == feature:
            return (row.get("providers") or {}).get(provider)
    return None


def _summary(document: dict[str, Any], feature: str, providers: list[str], names: dict[str, str]) -> str:
    """"✅ 5/5", "❌ 3/5 — fails: Bedrock (Converse); n/a: Bedrock (Invoke)"."""
    by_status: dict[str, list[str]] = {}
    for provider in providers:
        cell = _cell_of(document, feature, provider)
        status = cell.get("status", "not_tested") if cell else "not_tested"
        by_status.setdefault(status, []).append(names.get(provider, provider))
    applicable = sum(len(v) for s, v in by_status.items() if s != "not_applicable")
    passed = len(by_status.get("pass", []))
    if not applicable:
        mark = MARK["not_applicable"]
    else:
        mark = next((MARK[s] for s in ("fail", "error", "not_tested") if by_status.get(s)), MARK["pass"])
    text = f"{mark} {passed}/{applicable}" if applicable else f"{mark} n/a"
    others = [f"{LABEL[s]}: {', '.join(by_status[s])}" for s in ("fail", "error", "not_tested", "not_applicable")
              if by_status.get(s)]
    return text + (" — " + "; ".join(others) if others else "")


def keeps_section(index: GatewayIndex, documents: list[dict[str, Any]]) -> str:
    """The README section (markdown, between the markers): a dated line with the run's releases, then a table with
    a row per feature and a column per gateway."""
    names: dict[str, str] = {}
    providers: list[str] = []
    features: list[tuple[str, str]] = []
    for document in documents:
        names.update(document.get("provider_names") or {})
        providers += [p for p in document.get("providers") or [] if p not in providers]
        features += [(r["id"], r.get("name") or r["id"]) for r in document.get("features") or []
                     if r["id"] not in [f for f, _ in features]]
    heads = [f"{e.display_name} {e.version}" for e in index.gateways]
    releases = ", ".join(f"{e.display_name} {e.version}" + (f" (profile `{e.profile}`)" if e.profile else "")
                         for e in index.gateways)
    upstreams = sorted({(d.get("providers_detail") or {}).get(p, {}).get("upstream", "unknown")
                        for d in documents for p in d.get("providers") or []})
    lines = [START, TITLE, "",
             f"Generated by `ccmatrix compare-gateways` from run `{index.run_id}` of "
             f"{index.generated_at:%Y-%m-%d %H:%M} UTC: Claude Code {index.claude_code_version}; {releases}; "
             f"columns {', '.join(names.get(p, p) for p in providers)} ({'/'.join(upstreams)}). Each cell: the "
             f"columns that pass out of those the feature applies to through that gateway, then the others.", "",
             "| Feature | " + " | ".join(heads) + " |", "|---|" + "---|" * len(heads)]
    for feature, name in features:
        cells = [_summary(d, feature, providers, names) for d in documents]
        lines.append(f"| {_md(name)} | " + " | ".join(_md(c) for c in cells) + " |")
    totals = [", ".join(f"{n} {s.replace('_', ' ')}" for s, n in e.counts.items() if n) for e in index.gateways]
    lines += ["", "Cells per gateway: " + "; ".join(f"{e.display_name}: {t}" for e, t in zip(index.gateways, totals))
              + ".", END]
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return str(text).replace("|", "\\|")


def write_section(readme: Path, section: str) -> None:
    """Put `section` between the markers of `readme` (replacing what was there), or append it with them."""
    from ccmatrix.publish.directory import atomic_write

    text = readme.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END) + r"\n?", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    atomic_write(readme, text)
