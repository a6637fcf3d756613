import json
from datetime import datetime, timedelta, timezone

import pytest

from ccmatrix.matrix import to_json
from ccmatrix.publish.history import History, HistoryError, history_dir
from ccmatrix.publish.samples import matrix
from ccmatrix.settings import Settings

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


def doc(run_id, minutes=0, **kw):
    return json.loads(to_json(matrix(run_id=run_id, generated_at=T0 + timedelta(minutes=minutes), **kw)))


def test_default_dir_is_under_out_dir_and_setting_overrides(tmp_path):
    assert history_dir(Settings(out_dir=tmp_path / "o")) == tmp_path / "o" / "history"
    assert history_dir(Settings(out_dir=tmp_path / "o", history_dir=tmp_path / "h")) == tmp_path / "h"


def test_record_and_list_in_time_order_with_counts(tmp_path):
    h = History(tmp_path)
    h.record(doc("run-b", 10, litellm_version="1.80.0"))
    h.record(doc("run-a", 0))
    runs = h.runs()
    assert [r.run_id for r in runs] == ["run-a", "run-b"]
    assert runs[1].litellm_version == "1.80.0"
    assert runs[0].counts == {"pass": 2, "fail": 1, "error": 1, "not_applicable": 1, "not_tested": 1}
    assert runs[0].matrix["run_id"] == "run-a"


def test_resolve_by_id_prefix_and_latest(tmp_path):
    h = History(tmp_path)
    for i, rid in enumerate(["20250301-aaaa", "20250301-aabb", "20250302-cccc"]):
        h.record(doc(rid, i))
    assert h.resolve("20250301-aaaa").run_id == "20250301-aaaa"
    assert h.resolve("20250302").run_id == "20250302-cccc"
    assert h.resolve("latest").run_id == "20250302-cccc"
    assert h.resolve("latest~2").run_id == "20250301-aaaa"
    with pytest.raises(HistoryError, match="ambiguous"):
        h.resolve("20250301-aa")
    with pytest.raises(HistoryError, match="no run matches"):
        h.resolve("nope")
    with pytest.raises(HistoryError, match="only 3"):
        h.resolve("latest~3")


def test_last_published_skips_unpublished_and_excluded(tmp_path):
    h = History(tmp_path)
    h.record(doc("one", 0))
    h.record(doc("two", 1), published=False)
    h.record(doc("three", 2))
    assert h.last_published().run_id == "three"
    assert h.last_published(exclude_run_id="three").run_id == "one"


def test_unsafe_run_ids_stay_inside_and_distinct(tmp_path):
    h = History(tmp_path)
    h.record(doc("../../evil", 0))
    h.record(doc("..__..__evil", 1))
    assert sorted(p.parent for p in tmp_path.rglob("*.json")) == [tmp_path / "runs"] * 2
    assert {r.run_id for r in h.runs()} == {"../../evil", "..__..__evil"}


def test_damaged_file_is_ignored(tmp_path):
    h = History(tmp_path)
    h.record(doc("good"))
    (tmp_path / "runs" / "junk.json").write_text("{not json")
    assert [r.run_id for r in h.runs()] == ["good"]
