"""Publishing a finished run: fail-closed validation, publishers (directory, git), history, regressions."""
from __future__ import annotations

import json

from pydantic import BaseModel, Field

from ccmatrix.matrix import Matrix, to_json, validate_document
from ccmatrix.settings import Settings


class PublishRefused(Exception):
    """The matrix must not be published; nothing was written. `reason` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class PublishReport(BaseModel):
    published: bool = False
    targets: list[str] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)
    regression: object | None = None
    problems: list[str] = Field(default_factory=list)


def check_publishable(matrix: Matrix) -> dict:
    """Validate before anything is written; raise PublishRefused with the reason."""
    if not matrix.features:
        raise PublishRefused("the matrix has no features: nothing to publish")
    document = json.loads(to_json(matrix))
    try:
        validate_document(document)
    except Exception as exc:  # jsonschema.ValidationError and schema errors alike
        raise PublishRefused(f"the matrix does not validate against its JSON Schema: {getattr(exc, 'message', exc)}")
    return document


def publish_run(matrix: Matrix, settings: Settings) -> PublishReport:
    from ccmatrix.publish import directory

    check_publishable(matrix)
    report = PublishReport()
    report.targets.extend(directory.publish(matrix, settings.out_dir))
    report.published = True
    return report
