import json

import jsonschema
import pytest

from ccmatrix.matrix import Matrix
from ccmatrix.publish import PublishRefused, publish_run
from ccmatrix.publish.directory import atomic_write
from ccmatrix.settings import Settings
from ccmatrix.publish.samples import matrix


def settings(tmp_path, **kw) -> Settings:
    return Settings(out_dir=tmp_path / "out", publishers="directory", history_dir=tmp_path / "history", **kw)


def test_directory_writes_three_files_that_validate(tmp_path):
    m = matrix()
    report = publish_run(m, settings(tmp_path))
    out = tmp_path / "out"
    assert report.published
    doc = json.loads((out / "compatibility-matrix.json").read_text())
    schema = json.loads((out / "compatibility-matrix.schema.json").read_text())
    jsonschema.validate(doc, schema)
    assert doc["run_id"] == m.run_id
    page = (out / "index.html").read_text()
    assert 'id="matrix-data"' in page
    assert str(out / "index.html") in report.targets
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_embedded_json_round_trips_and_cannot_close_the_script(tmp_path):
    m = matrix()
    m.features[0].providers["bedrock_invoke"].error = "</script><script>alert(1)</script>"
    publish_run(m, settings(tmp_path))
    page = (tmp_path / "out" / "index.html").read_text()
    start = page.index('id="matrix-data">') + len('id="matrix-data">')
    embedded = page[start: page.index("</script>", start)]
    assert json.loads(embedded)["features"][0]["providers"]["bedrock_invoke"]["error"].startswith("</script>")


def test_invalid_matrix_writes_nothing(tmp_path):
    bad = Matrix.model_construct(**{**matrix().__dict__, "schema_version": "2"})
    with pytest.raises(PublishRefused) as info:
        publish_run(bad, settings(tmp_path))
    assert "schema" in info.value.reason.lower()
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "history").exists()


def test_empty_matrix_is_refused(tmp_path):
    empty = matrix(cells={}, providers=["anthropic"])
    with pytest.raises(PublishRefused, match="no features"):
        publish_run(empty, settings(tmp_path))
    assert not (tmp_path / "out").exists()


def test_atomic_write_keeps_old_file_when_write_fails(tmp_path, monkeypatch):
    target = tmp_path / "f.json"
    target.write_text("old")

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", boom)
    with pytest.raises(OSError):
        atomic_write(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_a_set_is_written_all_or_nothing(tmp_path, monkeypatch):
    """A write that fails in the middle of a set (a full disk at the page) replaces none of its files and leaves no
    temp file (drills/disk_full.py)."""
    import errno
    import os

    from ccmatrix.publish.directory import write_all

    for name in ("a.json", "b.html"):
        (tmp_path / name).write_text("old")
    real_fdopen = os.fdopen
    calls = []

    def fdopen(fd, *a, **k):
        calls.append(fd)
        if len(calls) == 2:  # the second file of the set finds the disk full
            os.close(fd)
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fdopen(fd, *a, **k)

    monkeypatch.setattr(os, "fdopen", fdopen)
    with pytest.raises(OSError, match="No space left"):
        write_all([(tmp_path / "a.json", "new"), (tmp_path / "b.html", "new")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.html"]
    assert (tmp_path / "a.json").read_text() == "old" and (tmp_path / "b.html").read_text() == "old"
