import json

import pytest

from ccmatrix.publish import PublishRefused, publish_run
from ccmatrix.publish.history import History
from ccmatrix.publish.samples import cell, matrix
from ccmatrix.settings import Settings


def settings(tmp_path, **kw):
    base = dict(out_dir=tmp_path / "out", history_dir=tmp_path / "history", cache_dir=tmp_path / "cache",
                publishers="directory")
    base.update(kw)
    return Settings(**base)


def test_first_run_is_clean_and_recorded(tmp_path):
    report = publish_run(matrix(run_id="r1"), settings(tmp_path))
    assert report.published and report.problems == []
    assert report.regression.status == "clean" and report.regression.baseline_run_id is None
    assert [e.run_id for e in History(tmp_path / "history").runs()] == ["r1"]
    assert (tmp_path / "out" / "regression-report.md").read_text() == report.regression.markdown()


def test_second_run_is_compared_with_the_last_published(tmp_path):
    s = settings(tmp_path)
    publish_run(matrix({"basic": {"anthropic": cell("pass")}}, run_id="r1"), s)
    report = publish_run(matrix({"basic": {"anthropic": cell("fail", error="boom")}}, run_id="r2"), s)
    assert report.regression.baseline_run_id == "r1"
    assert report.regression.regressed
    assert [(c.feature, c.provider, c.kind) for c in report.regression.changes] == [("basic", "anthropic", "green_to_red")]
    assert "Green → red" in (tmp_path / "out" / "regression-report.md").read_text()
    # republishing the same run id compares with the run before it, not with itself
    again = publish_run(matrix({"basic": {"anthropic": cell("fail", error="boom")}}, run_id="r2"), s)
    assert again.regression.baseline_run_id == "r1"


def test_without_history_the_matrix_in_out_dir_is_the_baseline(tmp_path):
    publish_run(matrix({"basic": {"anthropic": cell("pass")}}, run_id="r1"), settings(tmp_path))
    report = publish_run(matrix({"basic": {"anthropic": cell("error", error="x")}}, run_id="r2"),
                         settings(tmp_path, history_dir=tmp_path / "fresh-history"))
    assert report.regression.baseline_run_id == "r1" and report.regression.new_errors


def test_unknown_publisher_is_refused_before_writing(tmp_path):
    with pytest.raises(PublishRefused, match="unknown publisher"):
        publish_run(matrix(), settings(tmp_path, publishers="directory,s3"))
    assert not (tmp_path / "out").exists() and not (tmp_path / "history").exists()


def test_git_without_repo_is_refused_before_writing(tmp_path):
    with pytest.raises(PublishRefused, match="git_repo"):
        publish_run(matrix(), settings(tmp_path, publishers="directory, git"))
    assert not (tmp_path / "out").exists()


def test_missing_cell_is_refused(tmp_path):
    m = matrix()
    del m.features[0].providers["anthropic"]
    with pytest.raises(PublishRefused, match="partial matrix"):
        publish_run(m, settings(tmp_path))
    assert not (tmp_path / "out").exists()


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")
def test_invalid_status_is_refused(tmp_path):
    m = matrix()
    # a status the schema does not know, smuggled past the model (as a buggy caller could)
    object.__setattr__(m.features[0].providers["anthropic"], "status", "green")
    with pytest.raises(PublishRefused, match="JSON Schema.*features/0/providers/anthropic/status"):
        publish_run(m, settings(tmp_path))
    assert not (tmp_path / "out").exists()


def test_failing_publisher_does_not_stop_the_others_and_marks_unpublished(tmp_path):
    out = tmp_path / "out-is-a-file"
    out.write_text("not a dir")
    s = settings(tmp_path, out_dir=out)
    report = publish_run(matrix(run_id="r1"), s)
    assert not report.published and report.problems and "directory publisher failed" in report.problems[0]
    entry = History(tmp_path / "history").resolve("r1")
    assert entry.published is False
    assert History(tmp_path / "history").last_published() is None


def test_published_json_is_the_matrix(tmp_path):
    m = matrix(run_id="r9")
    publish_run(m, settings(tmp_path))
    assert json.loads((tmp_path / "out" / "compatibility-matrix.json").read_text()) == m.model_dump(mode="json", exclude_none=True)


def test_providers_detail_that_does_not_match_the_columns_is_refused(tmp_path):
    m = matrix()
    del m.providers_detail["vertex_ai"]
    with pytest.raises(PublishRefused, match="providers_detail describes"):
        publish_run(m, settings(tmp_path))
    assert not (tmp_path / "out").exists()


def test_a_matrix_without_providers_detail_is_still_published(tmp_path):
    m = matrix(run_id="old-shape")
    m.providers_detail = {}  # as a document from before the field: optional, never partial
    report = publish_run(m, settings(tmp_path))
    assert report.published and report.problems == []
    assert json.loads((tmp_path / "out" / "compatibility-matrix.json").read_text())["providers_detail"] == {}


def test_the_regression_report_names_the_cause(tmp_path):
    s = settings(tmp_path)
    publish_run(matrix({"basic": {"anthropic": cell("pass")}}, run_id="r1"), s)
    report = publish_run(matrix({"basic": {"anthropic": cell("error", error="overloaded", cause="provider")}},
                                run_id="r2"), s)
    change = report.regression.changes[0]
    assert (change.kind, change.cause) == ("new_error", "provider")
    assert {t.cause for t in change.tiers} == {"provider"}
    md = (tmp_path / "out" / "regression-report.md").read_text()
    assert "| provider | overloaded |" in md
