"""Publishing a finished run: fail-closed validation, publishers (directory, git), history, regressions.

    report = publish_run(matrix, settings)

1. The matrix document is validated against the published JSON Schema first; an invalid matrix, or one without
   features, raises PublishRefused and nothing at all is written (no file, no commit, no history entry).
   An unknown publisher name in `settings.publishers` is refused the same way.
2. The regression report compares it with the last published run in the history (or, with no history, the
   matrix already in `<out_dir>/compatibility-matrix.json`).
3. Each selected publisher runs (`settings.publishers`, comma separated: directory, git). A publisher that fails
   does not stop the others; its redacted error goes to `report.problems`.
4. The run is recorded in the history (published = no publisher failed).
`report.published` is True when every selected publisher succeeded (a git target skipped because its content is
unchanged counts as success).
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from ccmatrix.matrix import Matrix, to_json, validate_document
from ccmatrix.publish.regressions import RegressionReport, compare
from ccmatrix.settings import Settings

log = logging.getLogger("ccmatrix.publish")

KNOWN_PUBLISHERS = ("directory", "git")
REGRESSION_FILE = "regression-report.md"

__all__ = ["PublishRefused", "PublishReport", "RegressionReport", "publish_run", "check_publishable", "selected_publishers"]


class PublishRefused(Exception):
    """The matrix must not be published; nothing was written. `reason` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class PublishReport(BaseModel):
    published: bool = False
    targets: list[str] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)
    regression: RegressionReport | None = None
    problems: list[str] = Field(default_factory=list)


def selected_publishers(settings: Any) -> list[str]:
    names = [n.strip().lower() for n in str(getattr(settings, "publishers", "") or "").split(",") if n.strip()]
    unknown = [n for n in names if n not in KNOWN_PUBLISHERS]
    if unknown:
        raise PublishRefused(f"unknown publisher(s) {unknown} in settings.publishers; known: {list(KNOWN_PUBLISHERS)}")
    if not names:
        raise PublishRefused("settings.publishers selects no publisher")
    return list(dict.fromkeys(names))


def check_publishable(matrix: Matrix) -> dict[str, Any]:
    """Validate before anything is written; return the JSON document, or raise PublishRefused with the reason."""
    if not isinstance(matrix, Matrix):
        raise PublishRefused(f"not a Matrix: {type(matrix).__name__}")
    if not matrix.features:
        raise PublishRefused("the matrix has no features: nothing to publish")
    try:
        document = json.loads(to_json(matrix))
    except Exception as exc:  # a model that cannot even be serialised
        raise PublishRefused(f"the matrix cannot be serialised: {exc}") from exc
    try:
        validate_document(document)
    except Exception as exc:  # jsonschema.ValidationError and SchemaError alike
        where = "/".join(str(p) for p in getattr(exc, "absolute_path", []) or [])
        raise PublishRefused(
            f"the matrix does not validate against its JSON Schema"
            f"{' at ' + where if where else ''}: {getattr(exc, 'message', exc)}"
        ) from exc
    if not document.get("providers"):
        raise PublishRefused("the matrix has no provider columns: nothing to publish")
    detail = document.get("providers_detail")
    if detail and set(detail) != set(document["providers"]):  # optional (older documents), but never partial
        raise PublishRefused(f"providers_detail describes {sorted(detail)} but the columns are "
                             f"{sorted(document['providers'])}")
    for feature in document["features"]:
        missing = [p for p in document["providers"] if p not in feature.get("providers", {})]
        if missing:
            raise PublishRefused(f"feature {feature['id']!r} has no cell for provider(s) {missing}: a partial matrix is never published")
    return document


def _baseline(settings: Any, history: Any, run_id: str) -> dict[str, Any] | None:
    entry = history.last_published(exclude_run_id=run_id)
    if entry is not None:
        return entry.matrix
    current = Path(settings.out_dir) / "compatibility-matrix.json"
    try:
        document = json.loads(current.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or document.get("run_id") == run_id:
        return None
    return document


def publish_run(matrix: Matrix, settings: Settings) -> PublishReport:
    from ccmatrix.publish import directory
    from ccmatrix.publish.history import History

    document = check_publishable(matrix)
    publishers = selected_publishers(settings)
    git_publisher = None
    if "git" in publishers:  # configuration errors are refusals too, before anything is written
        from ccmatrix.publish.git import GitPublisher, GitRefused

        try:
            git_publisher = GitPublisher(settings)
        except (GitRefused, OSError) as exc:
            raise PublishRefused(f"git publisher: {exc}") from exc

    history = History.from_settings(settings)
    report = PublishReport()
    report.regression = compare(_baseline(settings, history, matrix.run_id), document)
    content = to_json(matrix)

    for name in publishers:
        try:
            if name == "directory":
                report.targets.extend(directory.publish(matrix, settings.out_dir, _page_history(history, document)))
                md = Path(settings.out_dir) / REGRESSION_FILE
                directory.atomic_write(md, report.regression.markdown())
                report.targets.append(str(md))
            elif name == "git":
                result = git_publisher.publish(
                    content,
                    litellm_version=matrix.litellm_version,
                    claude_code_version=matrix.claude_code_version,
                    run_id=matrix.run_id,
                    summary=_commit_summary(report.regression),
                )
                (report.targets if result.committed else report.skipped).append(
                    result.target + ("" if result.committed else f" ({result.reason})")
                )
        except Exception as exc:  # one publisher failing does not stop the others
            message = f"{name} publisher failed: {exc}"
            if git_publisher is not None:
                message = git_publisher._redact(message)
            log.error("%s", message)
            report.problems.append(message)

    report.published = not report.problems
    try:
        history.record(document, published=report.published)
    except OSError as exc:
        report.problems.append(f"history: could not record run {matrix.run_id}: {exc}")
    return report


def _page_history(history: Any, document: dict[str, Any]) -> dict[str, Any] | None:
    """The cell timelines for the page (the kept runs and this one); None when the history cannot be read."""
    from ccmatrix.publish.timeline import page_data

    try:
        return page_data(history.runs(), document)
    except Exception as exc:  # noqa: BLE001 - the page without timelines rather than no page
        log.warning("cell timelines left off the page: %s", exc)
        return None


def refresh_outputs(settings: Any, run_id: str) -> list[str]:
    """Rewrite the page and the regression report in `out_dir` for run `run_id` from the history (its stored bisects
    included) — when that run is the one published there; returns the files rewritten."""
    from ccmatrix.publish import directory
    from ccmatrix.publish.history import History
    from ccmatrix.publish.page import render_page

    history = History.from_settings(settings)
    entry = history.resolve(run_id)
    out = Path(settings.out_dir)
    try:
        current = json.loads((out / directory.MATRIX_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(current, dict) or current.get("run_id") != entry.run_id:
        return []
    baseline = history.published_before(entry.run_id)
    report = compare(baseline.matrix if baseline else None, current).attach_bisects(entry.bisects)
    page = out / directory.PAGE_FILE
    directory.atomic_write(page, render_page(current, _page_history(history, current)))
    md = out / REGRESSION_FILE
    directory.atomic_write(md, report.markdown())
    return [str(page), str(md)]


def _commit_summary(regression: RegressionReport | None) -> str:
    if regression is None or regression.baseline_run_id is None:
        return ""
    lines = [f"Regression report: {regression.status} against run {regression.baseline_run_id}"]
    for change in regression.changes[:50]:
        lines.append(f"- {change.kind}: {change.feature} x {change.provider}: {change.before or '-'} -> {change.after or '-'}"
                     + (f" (cause: {change.cause})" if change.cause else ""))
    if len(regression.changes) > 50:
        lines.append(f"- ... {len(regression.changes) - 50} more")
    return "\n".join(lines)
