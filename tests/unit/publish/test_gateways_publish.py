"""Publishing a run of several gateways (issue 17): file names, the index, one page, a git commit of the whole set,
and a set that does not validate or does not belong together is refused before anything is written."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from ccmatrix.matrix import to_json
from ccmatrix.publish import PublishRefused, publish_gateways
from ccmatrix.publish.git import GitPublisher, GitRefused
from ccmatrix.publish.index import build_index, index_file, matrix_file
from ccmatrix.publish.samples import gateways_run, matrix
from ccmatrix.settings import Settings


def git(*args) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout


def settings(tmp_path, **kw) -> Settings:
    base = dict(out_dir=tmp_path / "out", cache_dir=tmp_path / "cache", history_dir=tmp_path / "history",
                publishers="directory")
    return Settings(**{**base, **kw})


def test_litellm_keeps_its_path_and_the_others_go_next_to_it():
    assert matrix_file("litellm") == "compatibility-matrix.json"
    assert matrix_file("portkey") == "compatibility-matrix-portkey.json"
    assert matrix_file("claude-code-router", "docs/matrix.json") == "docs/matrix-claude-code-router.json"
    assert index_file("docs/matrix.json") == "docs/matrix.index.json"


def test_the_index_refuses_a_set_that_does_not_belong_together():
    documents = [json.loads(to_json(m)) for m in gateways_run()]
    index = build_index(documents)
    assert [(e.name, e.file) for e in index.gateways] == [
        ("litellm", "compatibility-matrix.json"), ("portkey", "compatibility-matrix-portkey.json"),
        ("claude-code-router", "compatibility-matrix-claude-code-router.json")]
    assert index.gateways[1].counts == {"pass": 3, "fail": 1, "error": 0, "not_applicable": 0, "not_tested": 0}
    other_run = json.loads(to_json(gateways_run(run_id="another-run")[1]))
    with pytest.raises(ValueError, match="different runs"):
        build_index([documents[0], other_run])
    with pytest.raises(ValueError, match="more than one matrix"):
        build_index([documents[1], documents[1]])


def test_a_directory_gets_every_matrix_the_index_and_one_page(tmp_path):
    report = publish_gateways(gateways_run(), settings(tmp_path))
    out = tmp_path / "out"
    assert report.published and not report.problems
    index = json.loads((out / "compatibility-matrix.index.json").read_text())
    for entry in index["gateways"]:
        document = json.loads((out / entry["file"]).read_text())
        assert document["gateway"]["name"] == entry["name"] and document["gateway"]["version"] == entry["version"]
    page = (out / "index.html").read_text()
    embedded = page.split('<script type="application/json" id="gateways-data">', 1)[1].split("</script>", 1)[0]
    assert [g["matrix"]["gateway"]["name"] for g in json.loads(embedded)] == ["litellm", "portkey",
                                                                             "claude-code-router"]
    assert sorted(report.regressions) == ["claude-code-router", "litellm", "portkey"]
    assert (out / "regression-report-claude-code-router.md").exists()


def test_one_invalid_matrix_refuses_the_whole_set(tmp_path):
    matrices = gateways_run()
    matrices[2].features = []  # nothing to publish for claude-code-router
    with pytest.raises(PublishRefused, match="claude-code-router"):
        publish_gateways(matrices, settings(tmp_path))
    assert not (tmp_path / "out").exists() and not (tmp_path / "history").exists()


def test_git_commits_the_whole_set_in_one_commit_and_writes_nothing_else(tmp_path):
    bare = tmp_path / "docs.git"
    git("init", "-q", "--bare", "--initial-branch=main", str(bare))
    s = settings(tmp_path, publishers="git", git_repo=str(bare), git_path="site/matrix.json")
    report = publish_gateways(gateways_run(), s)
    assert report.published, report.problems
    assert git("--git-dir", str(bare), "rev-list", "--count", "main").strip() == "1"
    assert sorted(git("--git-dir", str(bare), "ls-tree", "-r", "--name-only", "main").split()) == [
        "site/matrix-claude-code-router.json", "site/matrix-portkey.json", "site/matrix.index.json",
        "site/matrix.json"]
    index = json.loads(git("--git-dir", str(bare), "show", "main:site/matrix.index.json"))
    assert [e["file"] for e in index["gateways"]] == ["matrix.json", "matrix-portkey.json",
                                                      "matrix-claude-code-router.json"]
    again = publish_gateways(gateways_run(run_id="run-2"), s)  # same results, new run: nothing to commit
    assert again.published and again.skipped and not again.targets


def test_git_writes_only_the_files_of_its_run(tmp_path):
    publisher = GitPublisher(settings(tmp_path, publishers="git", git_repo=str(tmp_path / "r"),
                                      git_path="site/matrix.json"))
    assert publisher.check_run_path("site/matrix-portkey.json") == "site/matrix-portkey.json"
    for path in ("site/other.json", "matrix-portkey.json", "site/matrix-../x.json", "site/matrix-.json",
                 "site/matrix-Portkey.json", ".git/matrix-portkey.json", "site/matrix.index.json/../x"):
        with pytest.raises(GitRefused):
            publisher.check_run_path(path)


def test_a_single_litellm_run_commits_only_its_file_as_before(tmp_path):
    bare = tmp_path / "docs.git"
    git("init", "-q", "--bare", "--initial-branch=main", str(bare))
    report = publish_gateways([matrix(run_id="run-1")], settings(tmp_path, publishers="git", git_repo=str(bare)))
    assert report.published
    assert git("--git-dir", str(bare), "ls-tree", "-r", "--name-only", "main").split() == ["compatibility-matrix.json"]


def test_rewriting_the_page_after_a_bisect_keeps_every_gateways_tab(tmp_path):
    from ccmatrix.publish import refresh_outputs

    s = settings(tmp_path)
    assert publish_gateways(gateways_run(run_id="run-1"), s).published
    page = tmp_path / "out" / "index.html"
    page.write_text("stale")
    assert str(page) in refresh_outputs(s, "run-1")
    embedded = page.read_text().split('<script type="application/json" id="gateways-data">', 1)[1].split("</script>")[0]
    assert [g["file"] for g in json.loads(embedded)] == [
        "compatibility-matrix.json", "compatibility-matrix-portkey.json", "compatibility-matrix-claude-code-router.json"]


def test_history_and_diff_read_the_history_of_the_gateway_asked_for(tmp_path):
    from click.testing import CliRunner

    from ccmatrix.cli import cli
    from ccmatrix.publish.samples import cell

    s = settings(tmp_path)
    publish_gateways(gateways_run(run_id="run-1"), s)
    second = gateways_run(run_id="run-2")
    second[1].features[0].providers["anthropic"] = cell("fail", error="portkey broke")
    publish_gateways(second, s)
    where = ["--out-dir", str(tmp_path / "out"), "--history-dir", str(tmp_path / "history")]
    listed = CliRunner().invoke(cli, ["history", "--json", "--gateway", "portkey", *where])
    assert listed.exit_code == 0 and [r["litellm_version"] for r in json.loads(listed.output)] == ["1.15.2"] * 2
    assert CliRunner().invoke(cli, ["diff", "latest~1", "latest", "--gateway", "portkey", *where]).exit_code == 1
    assert CliRunner().invoke(cli, ["diff", "latest~1", "latest", *where]).exit_code == 0  # LiteLLM's: unchanged
    refused = CliRunner().invoke(cli, ["history", "--gateway", "kong", *where])
    assert refused.exit_code == 2 and "unknown gateway 'kong'" in refused.output
