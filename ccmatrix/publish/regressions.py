"""Regression report: the new matrix against the last published one, cell by cell and tier by tier.

Kinds of change (per cell):
- green_to_red: the cell (or one of its tiers) passed and now fails (`fail`: the gateway is wrong).
- new_error:    the cell (or a tier) is now `error` (infrastructure, result unknown) and was not before.
- red_to_green: the cell was `fail` or `error` and now passes.
- added / removed: the cell exists on one side only (a new row or column, or a narrower run).
- changed:      any other status change (e.g. pass -> not_tested, error -> fail, fail -> not_applicable),
                or the same cell status with different tier statuses.
The report is `regressed` when there is at least one green_to_red or new_error, `clean` otherwise (also when
there is no baseline to compare with). A change that lands on a non-pass status names its cause (gateway, provider,
infrastructure, emulator_gap, client: who is to blame), per tier and for the cell.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, computed_field

from ccmatrix.outcomes import CAUSES

ChangeKind = Literal["green_to_red", "new_error", "red_to_green", "added", "removed", "changed"]
KIND_ORDER: list[str] = ["green_to_red", "new_error", "red_to_green", "added", "removed", "changed"]
KIND_TITLES = {
    "green_to_red": "Green → red",
    "new_error": "New errors",
    "red_to_green": "Red → green",
    "added": "Added cells",
    "removed": "Removed cells",
    "changed": "Other changes",
}
ICONS = {"pass": "✅", "fail": "❌", "error": "⚠️", "not_applicable": "➖", "not_tested": "⭕"}


class TierChange(BaseModel):
    tier: str
    before: str | None = None
    after: str | None = None
    error: str | None = None
    cause: str | None = None  # the new side's cause (who is to blame) when it did not pass


class CellChange(BaseModel):
    feature: str
    provider: str
    feature_name: str | None = None
    provider_name: str | None = None
    kind: ChangeKind
    before: str | None = None
    after: str | None = None
    error: str | None = None  # the new side's error or reason
    cause: str | None = None  # the new side's cause(s): those of the tiers that give the cell its status
    tiers: list[TierChange] = Field(default_factory=list)
    bisect: str | None = None  # the automatic bisect's line for a green_to_red cell (ccmatrix bisect-regressions)

    @property
    def label(self) -> str:
        return f"{self.feature} × {self.provider}"


class RegressionReport(BaseModel):
    status: Literal["clean", "regressed"]
    run_id: str | None = None
    baseline_run_id: str | None = None  # None: nothing published before, nothing to compare with
    litellm_version: str | None = None  # the release of the gateway under test (LiteLLM's unless `gateway` says)
    gateway: str | None = None  # the display name of a gateway other than LiteLLM (issue 17); None: LiteLLM
    claude_code_version: str | None = None
    baseline_litellm_version: str | None = None
    baseline_claude_code_version: str | None = None
    changes: list[CellChange] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def regressed(self) -> bool:
        return self.status == "regressed"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def counts(self) -> dict[str, int]:
        """How many cells changed, per kind (in the task result next to `status`)."""
        return {kind: len(self.of_kind(kind)) for kind in KIND_ORDER}

    @property
    def exit_code(self) -> int:
        """0 when clean, 1 when regressed (for a CI step or a task result)."""
        return 1 if self.regressed else 0

    def of_kind(self, kind: str) -> list[CellChange]:
        return [c for c in self.changes if c.kind == kind]

    @property
    def green_to_red(self) -> list[CellChange]:
        return self.of_kind("green_to_red")

    @property
    def red_to_green(self) -> list[CellChange]:
        return self.of_kind("red_to_green")

    @property
    def new_errors(self) -> list[CellChange]:
        return self.of_kind("new_error")

    @property
    def added(self) -> list[CellChange]:
        return self.of_kind("added")

    @property
    def removed(self) -> list[CellChange]:
        return self.of_kind("removed")

    def markdown(self, max_error: int = 200) -> str:
        return to_markdown(self, max_error=max_error)

    def attach_bisects(self, bisects: dict[str, Any]) -> "RegressionReport":
        """Set each changed cell's `bisect` line from a run's stored bisects ({"feature/provider": CellBisect})."""
        for change in self.changes:
            found = bisects.get(f"{change.feature}/{change.provider}")
            if found is not None:
                change.bisect = found.text if hasattr(found, "text") else str((found or {}).get("text"))
        return self


def _document(matrix: Any) -> dict[str, Any]:
    if matrix is None or isinstance(matrix, dict):
        return matrix
    return matrix.model_dump(mode="json", exclude_none=True)


def _cells(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    cells = {}
    for feature in doc.get("features", []):
        for provider, cell in (feature.get("providers") or {}).items():
            cells[(feature["id"], provider)] = cell
    return cells


def _names(doc: dict[str, Any] | None) -> tuple[dict[str, str], dict[str, str]]:
    if not doc:
        return {}, {}
    return ({f["id"]: f.get("name", f["id"]) for f in doc.get("features", [])}, dict(doc.get("provider_names") or {}))


def cell_cause(cell: dict[str, Any] | None) -> str | None:
    """The causes of the tiers that give a non-pass cell its status ("gateway", "provider, infrastructure"...)."""
    if not cell or cell.get("status") in (None, "pass", "not_applicable"):
        return None
    tiers = (cell.get("tiers") or {}).values()
    causes = {t.get("cause") for t in tiers if t.get("status") == cell.get("status") and t.get("cause")}
    order = {c: i for i, c in enumerate(CAUSES)}
    return ", ".join(sorted(causes, key=lambda c: (order.get(c, len(order)), c))) or None


def _tier_changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[TierChange]:
    b = (before or {}).get("tiers") or {}
    a = (after or {}).get("tiers") or {}
    order = list(a) + [t for t in b if t not in a]
    changes = []
    for tier in order:
        sb = (b.get(tier) or {}).get("status")
        sa = (a.get(tier) or {}).get("status")
        if sb != sa:
            detail = a.get(tier) or {}
            changes.append(TierChange(tier=tier, before=sb, after=sa, error=detail.get("error") or detail.get("reason"),
                                      cause=detail.get("cause") if sa not in (None, "pass", "not_applicable") else None))
    return changes


def _kind(before: str | None, after: str | None, tiers: list[TierChange]) -> ChangeKind | None:
    if before is None:
        return "added"
    if after is None:
        return "removed"
    if after == "error" and before != "error":
        return "new_error"
    if before == "pass" and after == "fail":
        return "green_to_red"
    if before in ("fail", "error") and after == "pass":
        return "red_to_green"
    if before != after:
        return "changed"
    if tiers:  # same cell status, different tiers: judge by the tiers
        if any(t.after == "error" and t.before not in (None, "error") for t in tiers):
            return "new_error"
        if any(t.before == "pass" and t.after == "fail" for t in tiers):
            return "green_to_red"
        return "changed"
    return None


def compare(baseline: Any, new: Any) -> RegressionReport:
    """Compare `new` (a Matrix or its JSON document) with `baseline` (the last published one, or None)."""
    new_doc = _document(new)
    old_doc = _document(baseline)
    report = RegressionReport(
        status="clean",
        run_id=new_doc.get("run_id"),
        litellm_version=new_doc.get("litellm_version"),
        claude_code_version=new_doc.get("claude_code_version"),
    )
    gateway = new_doc.get("gateway") or {}
    if gateway.get("name") not in (None, "litellm"):
        report.gateway = gateway.get("display_name") or gateway["name"]
    if old_doc is None:
        return report
    report.baseline_run_id = old_doc.get("run_id")
    report.baseline_litellm_version = old_doc.get("litellm_version")
    report.baseline_claude_code_version = old_doc.get("claude_code_version")
    old_cells, new_cells = _cells(old_doc), _cells(new_doc)
    new_features, new_providers = _names(new_doc)
    old_features, old_providers = _names(old_doc)
    feature_names = {**old_features, **new_features}
    provider_names = {**old_providers, **new_providers}
    # order: the new matrix's rows/columns first, then cells only the baseline has
    keys = list(new_cells) + [k for k in old_cells if k not in new_cells]
    for key in keys:
        before, after = old_cells.get(key), new_cells.get(key)
        sb = before.get("status") if before else None
        sa = after.get("status") if after else None
        tiers = _tier_changes(before, after) if before and after else []
        kind = _kind(sb, sa, tiers)
        if kind is None:
            continue
        side = after or before or {}
        report.changes.append(
            CellChange(
                feature=key[0],
                provider=key[1],
                feature_name=feature_names.get(key[0]),
                provider_name=provider_names.get(key[1]),
                kind=kind,
                before=sb,
                after=sa,
                error=side.get("error") or side.get("reason") if after else None,
                cause=cell_cause(after),
                tiers=tiers,
            )
        )
    if report.green_to_red or report.new_errors:
        report.status = "regressed"
    return report


def _md(text: Any, limit: int = 200) -> str:
    s = "" if text is None else str(text)
    s = " ".join(s.split())
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("`", "'").replace("<", "&lt;").replace(">", "&gt;")


def _litellm(version: str | None, bold: bool = False, gateway: str | None = None) -> str:
    """"LiteLLM 1.2.3", or a local tree / wheel's label (path, sha256, declared version): a gate run on a change
    is compared with the last published release like any other run; another gateway: "<its name> 1.2.3"."""
    from ccmatrix.local_source import parse_spec

    if gateway:
        return f"{_md(gateway)} **{_md(version)}**" if bold else f"{_md(gateway)} {_md(version)}"

    source = parse_spec(version)
    if source is not None:
        return f"**{_md(source.label, 400)}**" if bold else _md(source.label, 400)
    return f"LiteLLM **{_md(version)}**" if bold else f"LiteLLM {_md(version)}"


def _st(status: str | None) -> str:
    return "—" if status is None else f"{ICONS.get(status, '')} {status}".strip()


def _tier(t: TierChange) -> str:
    return f"{t.tier}: {t.before or '—'} → {t.after or '—'}" + (f" ({t.cause})" if t.cause else "")


def to_markdown(report: RegressionReport, max_error: int = 200) -> str:
    head = "❌ regressed" if report.regressed else "✅ clean"
    lines = [f"## Compatibility matrix: {head}", ""]
    versions = f"{_litellm(report.litellm_version, bold=True, gateway=report.gateway)}, Claude Code **{_md(report.claude_code_version)}**"
    if report.baseline_run_id is None:
        lines.append(f"{versions} · run `{_md(report.run_id)}` · no previously published matrix to compare with.")
        return "\n".join(lines) + "\n"
    lines.append(
        f"{versions} · run `{_md(report.run_id)}` against the last published run `{_md(report.baseline_run_id)}` "
        f"({_litellm(report.baseline_litellm_version, gateway=report.gateway)}, Claude Code {_md(report.baseline_claude_code_version)})."
    )
    lines.append("")
    counts = ", ".join(f"{KIND_TITLES[k].lower()}: {len(report.of_kind(k))}" for k in KIND_ORDER)
    lines.append(counts[0].upper() + counts[1:] + ".")
    if not report.changes:
        lines += ["", "No cell changed."]
    for kind in KIND_ORDER:
        changes = report.of_kind(kind)
        if not changes:
            continue
        lines += ["", f"### {KIND_TITLES[kind]} ({len(changes)})", "",
                  "| Feature | Provider | Before | After | Tiers | Cause | Error / reason |",
                  "|---|---|---|---|---|---|---|"]
        for c in changes:
            tiers = ", ".join(_tier(t) for t in c.tiers)
            lines.append(
                f"| {_md(c.feature_name or c.feature)} | {_md(c.provider_name or c.provider)} | {_st(c.before)} | "
                f"{_st(c.after)} | {_md(tiers)} | {_md(c.cause)} | {_md(c.error, max_error)} |"
            )
    bisected = [c for c in report.changes if c.bisect]
    if bisected:
        lines += ["", f"### Bisected ({len(bisected)})", ""]
        lines += [f"- {_md(c.feature_name or c.feature)} × {_md(c.provider_name or c.provider)}: {_md(c.bisect, 400)}"
                  for c in bisected]
    return "\n".join(lines) + "\n"
