"""Field-by-field diff of two universal requests.

Paths read like ``messages[0].parts[3].cache.ttl``, ``system[0]``, ``tools[Bash].input_schema``,
``betas[claude-code-20250219]``. Indices are the client's for ``lost``/``changed`` records and the upstream's
for ``added`` records.

Alignment:
- messages by position within their role (the n-th user message against the n-th user message);
- parts (system, message parts, tool_result content) by an LCS over a content fingerprint (kind + text/hash/id),
  so a dropped leading block is one ``lost`` record and not a cascade of ``changed`` ones; unmatched runs
  between anchors are paired by position;
- tools by name, betas as a set, everything else key by key / index by index.
A length mismatch is reported element by element and the diff goes on.
"""
from __future__ import annotations

import difflib
import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel

from providers._wire.universal import UniversalRequest

Kind = Literal["lost", "added", "changed"]

# Envelope fields that only restate the dialect (they always differ between two dialects): not diffed.
ENVELOPE_SKIP = {"format", "endpoint"}

BRIEF_LIMIT = 240


class DiffRecord(BaseModel):
    path: str
    kind: Kind
    before: Any = None
    after: Any = None
    status: Literal["unexpected", "expected"] = "unexpected"
    rule: str | None = None
    reason: str | None = None
    rule_class: str | None = None  # by-design | gateway-bug | emulator-gap, from the rule


def brief(value: Any, limit: int = BRIEF_LIMIT) -> Any:
    """Shorten long strings (keeping their head, length and hash) so records stay readable."""
    if isinstance(value, str):
        if len(value) <= limit:
            return value
        digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:12]
        return f"{value[: limit // 2]}…[{len(value)} chars, sha256 {digest}]"
    if isinstance(value, dict):
        return {k: brief(v, limit) for k, v in value.items()}
    if isinstance(value, list):
        return [brief(v, limit) for v in value]
    return value


class _Differ:
    def __init__(self) -> None:
        self.records: list[DiffRecord] = []

    # ------------------------------------------------------------------ emit
    def emit(self, path: str, kind: Kind, before: Any = None, after: Any = None) -> None:
        self.records.append(DiffRecord(path=path, kind=kind, before=brief(before), after=brief(after)))

    def missing(self, path: str, value: Any, kind: Kind) -> None:
        """A value present on one side only; dicts are expanded to their leaves so rules can be precise."""
        if isinstance(value, dict) and value:
            for k, v in value.items():
                self.missing(f"{path}.{k}", v, kind)
            return
        if kind == "lost":
            self.emit(path, "lost", before=value)
        else:
            self.emit(path, "added", after=value)

    # ------------------------------------------------------------------ generic
    def value(self, path: str, a: Any, b: Any) -> None:
        if a == b:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            self.mapping(path, a, b)
        elif isinstance(a, list) and isinstance(b, list):
            self.sequence(path, a, b)
        else:
            self.emit(path, "changed", a, b)

    def mapping(self, path: str, a: dict[str, Any], b: dict[str, Any]) -> None:
        prefix = f"{path}." if path else ""
        for k in a:
            if k in b:
                self.value(f"{prefix}{k}", a[k], b[k])
            else:
                self.missing(f"{prefix}{k}", a[k], "lost")
        for k in b:
            if k not in a:
                self.missing(f"{prefix}{k}", b[k], "added")

    def sequence(self, path: str, a: list[Any], b: list[Any]) -> None:
        for i in range(max(len(a), len(b))):
            if i < len(a) and i < len(b):
                self.value(f"{path}[{i}]", a[i], b[i])
            elif i < len(a):
                self.emit(f"{path}[{i}]", "lost", before=a[i])
            else:
                self.emit(f"{path}[{i}]", "added", after=b[i])

    # ------------------------------------------------------------------ parts
    @staticmethod
    def fingerprint(part: dict[str, Any]) -> str:
        key = {k: part.get(k) for k in ("kind", "type", "text", "sha256", "id", "name", "ref", "raw", "input")}
        return json.dumps(key, sort_keys=True)

    def part(self, path: str, a: dict[str, Any], b: dict[str, Any]) -> None:
        if a == b:
            return
        ca, cb = a.get("content"), b.get("content")
        rest_a = {k: v for k, v in a.items() if k != "content"}
        rest_b = {k: v for k, v in b.items() if k != "content"}
        self.mapping(path, rest_a, rest_b)
        if ca is not None or cb is not None:
            self.parts(f"{path}.content", ca or [], cb or [])

    def parts(self, path: str, a: list[dict[str, Any]], b: list[dict[str, Any]]) -> None:
        if a == b:
            return
        fa = [self.fingerprint(p) for p in a]
        fb = [self.fingerprint(p) for p in b]
        sm = difflib.SequenceMatcher(None, fa, fb, autojunk=False)
        for op, i1, i2, j1, j2 in sm.get_opcodes():
            if op == "equal":
                for k in range(i2 - i1):
                    self.part(f"{path}[{i1 + k}]", a[i1 + k], b[j1 + k])
                continue
            n = min(i2 - i1, j2 - j1)
            for k in range(n):
                self.part(f"{path}[{i1 + k}]", a[i1 + k], b[j1 + k])
            for k in range(i1 + n, i2):
                self.emit(f"{path}[{k}]", "lost", before=a[k])
            for k in range(j1 + n, j2):
                self.emit(f"{path}[{k}]", "added", after=b[k])

    # ------------------------------------------------------------------ messages
    def messages(self, a: list[dict[str, Any]], b: list[dict[str, Any]]) -> None:
        def by_role(msgs: list[dict[str, Any]]) -> dict[str, list[int]]:
            out: dict[str, list[int]] = {}
            for i, m in enumerate(msgs):
                out.setdefault(m.get("role", "?"), []).append(i)
            return out

        ra, rb = by_role(a), by_role(b)
        pending: list[tuple[int, int, Any]] = []  # (order key, tiebreak, action) so records follow the client order
        for role in [*ra, *[r for r in rb if r not in ra]]:
            ia, ib = ra.get(role, []), rb.get(role, [])
            for n in range(max(len(ia), len(ib))):
                if n < len(ia) and n < len(ib):
                    i, j = ia[n], ib[n]
                    pending.append((i, 0, ("pair", i, j)))
                elif n < len(ia):
                    pending.append((ia[n], 0, ("lost", ia[n], None)))
                else:
                    pending.append((ib[n], 1, ("added", None, ib[n])))
        for _, _, (what, i, j) in sorted(pending, key=lambda t: (t[0], t[1])):
            if what == "pair":
                self.parts(f"messages[{i}].parts", a[i].get("parts") or [], b[j].get("parts") or [])
            elif what == "lost":
                self.emit(f"messages[{i}]", "lost", before=a[i])
            else:
                self.emit(f"messages[{j}]", "added", after=b[j])

    # ------------------------------------------------------------------ tools / betas
    def tools(self, a: list[dict[str, Any]], b: list[dict[str, Any]]) -> None:
        ta = {t.get("name"): t for t in a}
        tb = {t.get("name"): t for t in b}
        for name, t in ta.items():
            if name in tb:
                self.mapping(f"tools[{name}]", t, tb[name])
            else:
                self.emit(f"tools[{name}]", "lost", before=t)
        for name, t in tb.items():
            if name not in ta:
                self.emit(f"tools[{name}]", "added", after=t)

    def fields(self, keys: tuple[str, ...], a: dict[str, Any], b: dict[str, Any]) -> None:
        """Top-level fields present on one side or both."""
        for key in keys:
            if key in a and key in b:
                self.value(key, a[key], b[key])
            elif key in a:
                self.missing(key, a[key], "lost")
            elif key in b:
                self.missing(key, b[key], "added")

    def betas(self, a: list[str], b: list[str]) -> None:
        for x in sorted(set(a) - set(b)):
            self.emit(f"betas[{x}]", "lost", before=x)
        for x in sorted(set(b) - set(a)):
            self.emit(f"betas[{x}]", "added", after=x)


def diff(client: UniversalRequest, upstream: UniversalRequest) -> list[DiffRecord]:
    """Every difference between the client's request and the upstream's, all with status ``unexpected``
    (``fidelity.rules.RuleSet.apply`` turns the documented ones into ``expected``)."""
    a, b = client.dump(), upstream.dump()
    d = _Differ()
    ea = {k: v for k, v in a.get("envelope", {}).items() if k not in ENVELOPE_SKIP}
    eb = {k: v for k, v in b.get("envelope", {}).items() if k not in ENVELOPE_SKIP}
    d.mapping("envelope", ea, eb)
    d.parts("system", a.get("system", []), b.get("system", []))
    d.messages(a.get("messages", []), b.get("messages", []))
    d.tools(a.get("tools", []), b.get("tools", []))
    d.fields(("tool_choice", "sampling", "reasoning", "output_format", "metadata"), a, b)
    d.betas(a.get("betas", []), b.get("betas", []))
    d.fields(("context_management", "unmapped"), a, b)
    return d.records
