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

from pydantic import BaseModel, Field, computed_field

from ccmatrix.matrix import Matrix, to_json, validate_document
from ccmatrix.publish.regressions import RegressionReport, compare
from ccmatrix.settings import Settings

log = logging.getLogger("ccmatrix.publish")

KNOWN_PUBLISHERS = ("directory", "git")
REGRESSION_FILE = "regression-report.md"

__all__ = ["PublishRefused", "PublishReport", "RegressionReport", "publish_run", "publish_gateways", "check_publishable",
           "selected_publishers"]


class PublishRefused(Exception):
    """The matrix must not be published; nothing was written. `reason` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class PublishReport(BaseModel):
    published: bool = False
    targets: list[str] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)
    regression: RegressionReport | None = None  # LiteLLM's (the run's only gateway, or its first)
    regressions: dict[str, RegressionReport] = Field(default_factory=dict)  # per gateway, each against its own runs
    problems: list[str] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def regression_status(self) -> str | None:
        """regressed when any gateway's matrix regressed, else clean (None: nothing compared)."""
        if not self.regressions:
            return self.regression.status if self.regression else None
        return "regressed" if any(r.regressed for r in self.regressions.values()) else "clean"


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


def _baseline(settings: Any, history: Any, run_id: str, file: str = "compatibility-matrix.json") -> dict[str, Any] | None:
    entry = history.last_published(exclude_run_id=run_id)
    if entry is not None:
        return entry.matrix
    current = Path(settings.out_dir) / file
    try:
        document = json.loads(current.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or document.get("run_id") == run_id:
        return None
    return document


def publish_run(matrix: Matrix, settings: Settings) -> PublishReport:
    """Publish one matrix (a run of one gateway)."""
    return publish_gateways([matrix], settings)


def publish_gateways(matrices: list[Matrix], settings: Settings) -> PublishReport:
    """Publish a run's matrices, one per gateway (LiteLLM's at its usual path, the others next to it, the index
    listing them all, one page with a tab per gateway). Every document and the index are validated before anything
    is written: one that does not validate refuses the whole set (PublishRefused). History and regressions are
    kept per gateway: a gateway's cells are only ever compared with its own earlier runs."""
    from ccmatrix.publish import directory
    from ccmatrix.publish.history import History
    from ccmatrix.publish.index import build_index, index_file, index_json, matrix_file

    documents = []
    for matrix in matrices:
        try:
            documents.append(check_publishable(matrix))
        except PublishRefused as refused:
            name = matrix.gateway.name if isinstance(matrix, Matrix) and matrix.gateway else "litellm"
            raise PublishRefused(f"{name}: {refused.reason}" if len(matrices) > 1 else refused.reason) from refused
    try:
        build_index(documents)
    except ValueError as error:
        raise PublishRefused(f"the gateways' matrices do not make one run: {error}") from error
    publishers = selected_publishers(settings)
    git_publisher = None
    if "git" in publishers:  # configuration errors are refusals too, before anything is written
        from ccmatrix.publish.git import GitPublisher, GitRefused

        try:
            git_publisher = GitPublisher(settings)
        except (GitRefused, OSError) as exc:
            raise PublishRefused(f"git publisher: {exc}") from exc

    report = PublishReport()
    histories = {}
    for matrix, document in zip(matrices, documents):
        name = _gateway_name(document)
        histories[name] = History.for_gateway(settings, name)
        baseline = _baseline(settings, histories[name], matrix.run_id, matrix_file(name))
        report.regressions[name] = compare(baseline, document)
    report.regression = report.regressions.get("litellm") or next(iter(report.regressions.values()))
    index_regressions = {k: v.status for k, v in report.regressions.items()}
    index = build_index(documents, regressions=index_regressions)

    for name in publishers:
        try:
            if name == "directory":
                pages = [(document, _page_history(histories[_gateway_name(document)], document))
                         for document in documents]
                reports = [(Path(settings.out_dir) / regression_file(gateway), regression.markdown())
                           for gateway, regression in report.regressions.items()]
                # one set, all or nothing (a full disk leaves the previous one whole)
                report.targets.extend(directory.publish_set(matrices, settings.out_dir, [h for _, h in pages], index,
                                                            extra=reports))
            elif name == "git":
                base = git_publisher.allowed_path
                files = {matrix_file(_gateway_name(d), base): to_json(m) for m, d in zip(matrices, documents)}
                if len(matrices) > 1 or _gateway_name(documents[0]) != "litellm":
                    files[index_file(base)] = index_json(build_index(documents, base, index_regressions))
                first = matrices[0]
                result = git_publisher.publish_files(
                    files,
                    litellm_version=first.litellm_version,
                    claude_code_version=first.claude_code_version,
                    run_id=first.run_id,
                    summary="\n\n".join(filter(None, (_commit_summary(r, g if len(matrices) > 1 else None)
                                                       for g, r in report.regressions.items()))),
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
    for document in documents:
        try:
            histories[_gateway_name(document)].record(document, published=report.published)
        except OSError as exc:
            report.problems.append(f"history: could not record run {document['run_id']}: {exc}")
    return report


def regression_file(gateway: str) -> str:
    """LiteLLM's regression report keeps its name; another gateway's is regression-report-<gateway>.md."""
    return REGRESSION_FILE if gateway == "litellm" else REGRESSION_FILE.replace(".md", f"-{gateway}.md")


def _gateway_name(document: dict[str, Any]) -> str:
    from ccmatrix.publish.index import gateway_of

    return gateway_of(document)["name"]


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
    directory.atomic_write(page, render_page(current, _page_history(history, current),
                                             gateways=_published_gateways(settings, current)))
    md = out / REGRESSION_FILE
    directory.atomic_write(md, report.markdown())
    return [str(page), str(md)]


def _published_gateways(settings: Any, current: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The page's tabs for the run published in `out_dir` (its index and each gateway's matrix, with that gateway's
    timelines); None when the run has one gateway, or its files are not all of that run (then LiteLLM's alone)."""
    from ccmatrix.publish.history import History
    from ccmatrix.publish.index import GatewayIndex, index_file

    out = Path(settings.out_dir)
    try:
        index = GatewayIndex.model_validate_json((out / index_file()).read_text(encoding="utf-8"))
        if index.run_id != current.get("run_id") or len(index.gateways) < 2:
            return None
        documents = [json.loads((out / entry.file).read_text(encoding="utf-8")) for entry in index.gateways]
    except (OSError, ValueError):
        return None
    if any(d.get("run_id") != index.run_id for d in documents):
        return None
    return [{"matrix": d, "file": e.file, "history": _page_history(History.for_gateway(settings, e.name), d) or {}}
            for d, e in zip(documents, index.gateways)]


def _commit_summary(regression: RegressionReport | None, gateway: str | None = None) -> str:
    if regression is None or regression.baseline_run_id is None:
        return ""
    lines = [f"Regression report{' (' + gateway + ')' if gateway else ''}: {regression.status} against run "
             f"{regression.baseline_run_id}"]
    for change in regression.changes[:50]:
        lines.append(f"- {change.kind}: {change.feature} x {change.provider}: {change.before or '-'} -> {change.after or '-'}"
                     + (f" (cause: {change.cause})" if change.cause else ""))
    if len(regression.changes) > 50:
        lines.append(f"- ... {len(regression.changes) - 50} more")
    return "\n".join(lines)
