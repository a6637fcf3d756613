"""The Claude Code CLI's own model table, read from the native binary it ships.

The binary embeds a "hand-maintained baked-in model catalog" as a JavaScript object literal:
`{"//": "...", schema_version: 1, models: [{id, family, display_name, provider_ids: {first_party, bedrock, vertex,
foundry, anthropic_aws, mantle, gateway}, context: {...}, capabilities: [...], ...}], aliases: {opus: {default,
per_provider}}, defaults: {}, latest_per_family: {...}, alias_migration: {}}` (measured on 2.1.197 and 2.1.332:
../shared/notes/claude-code-cli.md). This module finds it, turns the literal into JSON without executing it,
checks its shape (a new CLI that changes the shape fails loudly, never silently) and answers questions about it.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ANCHOR = re.compile(rb'\{"//":"Hand-maintained baked-in model catalog(?:[^"\\]|\\.)*",schema_version:(\d+),')
SUPPORTED_SCHEMA = {1}
PROVIDER_KINDS = ("first_party", "bedrock", "vertex", "foundry", "anthropic_aws", "anthropic_google_cloud", "mantle",
                  "gateway")
_IDENT = re.compile(r"[A-Za-z_$][\w$]*")


class ModelTableError(ValueError):
    """The binary has no model table we can read, or its shape changed."""


def find_literal(data: bytes) -> str:
    """The catalog's object literal, balanced from its opening brace (strings and escapes respected)."""
    match = ANCHOR.search(data)
    if match is None:
        raise ModelTableError("no embedded model catalog found in the binary (anchor not present)")
    if int(match.group(1)) not in SUPPORTED_SCHEMA:
        raise ModelTableError(f"model catalog schema_version {match.group(1).decode()} is not supported "
                              f"(known: {sorted(SUPPORTED_SCHEMA)}): update ccmatrix/model_table.py")
    start, depth, i, in_string = match.start(), 0, match.start(), False
    while i < len(data):
        c = data[i]
        if in_string:
            if c == 0x5C:  # backslash
                i += 2
                continue
            if c == 0x22:
                in_string = False
        elif c == 0x22:
            in_string = True
        elif c in (0x7B, 0x5B):
            depth += 1
        elif c in (0x7D, 0x5D):
            depth -= 1
            if depth == 0:
                return data[start:i + 1].decode("utf-8")
        i += 1
    raise ModelTableError("the model catalog literal never closes")


def literal_to_json(text: str) -> Any:
    """A JS object literal (unquoted keys, `!0`/`!1`, `void 0`) as Python data; never evaluated."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == '"':
            j = i + 1
            while text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
            continue
        if c == "!" and text[i + 1:i + 2] in ("0", "1"):
            out.append("true" if text[i + 1] == "0" else "false")
            i += 2
            continue
        if text.startswith("void 0", i):
            out.append("null")
            i += 6
            continue
        ident = _IDENT.match(text, i)
        if ident and (not out or out[-1][-1:] in "{,"):
            word = ident.group(0)
            rest = text[ident.end():ident.end() + 1]
            if rest == ":":
                out.append(json.dumps(word))
                i = ident.end()
                continue
        if ident:
            out.append(ident.group(0))
            i = ident.end()
            continue
        out.append(c)
        i += 1
    try:
        return json.loads("".join(out))
    except ValueError as error:
        raise ModelTableError(f"the model catalog is not a plain data literal: {error}") from None


@dataclass(frozen=True)
class Model:
    id: str
    family: str
    provider_ids: dict[str, str | None]
    capabilities: tuple[str, ...]
    context: dict[str, Any]
    raw: dict[str, Any]

    def offered_on(self, kind: str) -> bool:
        return bool(self.provider_ids.get(kind))


class ModelTable:
    def __init__(self, catalog: dict[str, Any]):
        self.catalog = catalog
        self._check_shape()
        self.models = {m["id"]: Model(id=m["id"], family=m["family"], provider_ids=dict(m["provider_ids"]),
                                      capabilities=tuple(m.get("capabilities") or ()),
                                      context=dict(m.get("context") or {}), raw=m)
                       for m in catalog["models"]}

    def _check_shape(self) -> None:
        c = self.catalog
        for key in ("models", "aliases", "latest_per_family"):
            if key not in c:
                raise ModelTableError(f"model catalog has no {key!r}: the CLI changed the table's shape")
        for index, m in enumerate(c["models"]):
            for key in ("id", "family", "provider_ids"):
                if key not in m:
                    raise ModelTableError(f"models[{index}] has no {key!r}: the CLI changed the table's shape")
            if "first_party" not in m["provider_ids"]:
                raise ModelTableError(f"models[{index}].provider_ids has no first_party id")

    # --- questions --------------------------------------------------------------------------------------
    def families(self) -> list[str]:
        return sorted(self.catalog["latest_per_family"])

    def latest(self, family: str) -> str:
        try:
            return self.catalog["latest_per_family"][family]
        except KeyError:
            raise ModelTableError(f"the CLI knows no family {family!r} (known: {self.families()})") from None

    def alias(self, family: str, kind: str | None = None) -> str:
        """What the CLI's own alias resolves to, for a provider kind (e.g. `gateway` for a gateway user)."""
        entry = self.catalog["aliases"].get(family)
        if entry is None:
            raise ModelTableError(f"the CLI has no alias {family!r}")
        return ((entry.get("per_provider") or {}).get(kind) if kind else None) or entry["default"]

    def model(self, model_id: str) -> Model:
        try:
            return self.models[model_id]
        except KeyError:
            raise ModelTableError(f"the CLI's model table has no {model_id!r}") from None

    def provider_id(self, model_id: str, kind: str) -> str | None:
        """The model's id on one provider kind (None = the table says that provider does not offer it)."""
        if kind not in PROVIDER_KINDS:
            raise ModelTableError(f"unknown provider kind {kind!r} (known: {PROVIDER_KINDS})")
        return self.model(model_id).provider_ids.get(kind)


def extract(binary: Path) -> dict[str, Any]:
    return literal_to_json(find_literal(Path(binary).read_bytes()))


def load(binary: Path, cache: Path | None = None) -> ModelTable:
    """The table of one CLI binary, cached as JSON next to it (reading 245 MB takes a second or two)."""
    cache = cache or Path(binary).with_name("model-table.json")
    if cache.exists() and cache.stat().st_mtime >= Path(binary).stat().st_mtime:
        return ModelTable(json.loads(cache.read_text()))
    catalog = extract(binary)
    try:
        cache.write_text(json.dumps(catalog, indent=1, sort_keys=True))
    except OSError:
        pass
    return ModelTable(catalog)
