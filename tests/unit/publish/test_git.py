"""The git publisher against real repositories with real git: a local bare repo, and a smart-HTTP server with auth."""
from __future__ import annotations

import json
import logging
import subprocess
from pathlib import Path

import pytest

from ccmatrix.matrix import to_json
from ccmatrix.publish import PublishRefused, publish_run
from ccmatrix.publish.git import GitPublisher, GitPublishError, GitRefused, load_credentials, normalized, redact
from ccmatrix.publish.samples import cell, matrix
from ccmatrix.settings import Settings

from .git_http_server import GitHTTPServer

TOKEN = "tok-S3CRET-4f9a1c2e7b"


def git(*args, cwd=None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def bare(tmp_path) -> Path:
    repo = tmp_path / "docs.git"
    git("init", "-q", "--bare", "--initial-branch=main", str(repo))
    return repo


def settings(tmp_path, repo, **kw) -> Settings:
    base = dict(out_dir=tmp_path / "out", cache_dir=tmp_path / "cache", history_dir=tmp_path / "history",
                publishers="git", git_repo=str(repo))
    base.update(kw)
    return Settings(**base)


def commits(repo: Path, branch="main") -> list[str]:
    return git("--git-dir", str(repo), "rev-list", branch).split()


def test_same_results_twice_make_one_commit(tmp_path, bare):
    s = settings(tmp_path, bare)
    first = publish_run(matrix(run_id="run-1"), s)
    assert first.published and len(first.targets) == 1 and first.targets[0].startswith("git:")
    second = publish_run(matrix(run_id="run-2"), s)  # new run id and generated_at, same results
    assert second.published and second.targets == [] and "unchanged" in second.skipped[0]
    assert len(commits(bare)) == 1
    published = json.loads(git("--git-dir", str(bare), "show", "main:compatibility-matrix.json"))
    assert published["run_id"] == "run-1"
    assert git("--git-dir", str(bare), "ls-tree", "-r", "--name-only", "main").split() == ["compatibility-matrix.json"]


def test_changed_results_make_a_second_commit_with_both_versions(tmp_path, bare):
    s = settings(tmp_path, bare)
    publish_run(matrix(run_id="run-1"), s)
    changed = matrix(run_id="run-2", litellm_version="1.107.0",
                     cells={"basic_messaging": {"anthropic": cell("fail", error="boom")}})
    report = publish_run(changed, s)
    assert report.published and len(report.targets) == 1
    assert len(commits(bare)) == 2
    message = git("--git-dir", str(bare), "log", "-1", "--format=%B", "main")
    assert "LiteLLM 1.107.0" in message and "Claude Code 2.1.197" in message and "run-2" in message
    assert "regressed" in message  # the regression summary travels with the commit
    assert report.regression.regressed


def test_other_path_is_refused_and_nothing_is_committed(tmp_path, bare):
    publisher = GitPublisher(settings(tmp_path, bare))
    content = to_json(matrix())
    for path in ("other.json", "docs/compatibility-matrix.json", "../compatibility-matrix.json",
                 "/etc/passwd", ".git/config", "./compatibility-matrix.json"):
        with pytest.raises(GitRefused, match="refus|not allowed|not a plain"):
            publisher.publish(content, path=path, litellm_version="1", claude_code_version="2")
    assert git("--git-dir", str(bare), "for-each-ref").strip() == ""  # no branch, no commit
    publisher.publish(content, path="compatibility-matrix.json", litellm_version="1", claude_code_version="2")
    assert len(commits(bare)) == 1


@pytest.mark.parametrize("bad", ["../escape.json", ".git/hooks/post-commit", "/abs.json", ""])
def test_a_bad_allowlisted_path_is_refused_before_anything(tmp_path, bare, bad):
    with pytest.raises(PublishRefused, match="git publisher"):
        publish_run(matrix(), settings(tmp_path, bare, git_path=bad or "."))
    assert not (tmp_path / "out").exists() and not (tmp_path / "history").exists()


def test_branch_other_than_main_and_nested_allowlisted_path(tmp_path, bare):
    s = settings(tmp_path, bare)
    publish_run(matrix(run_id="base"), s)  # main exists
    s2 = settings(tmp_path, bare, git_branch="ccmatrix/update", git_path="docs/matrix/compatibility-matrix.json")
    report = publish_run(matrix(run_id="b", cells={"basic_messaging": {"anthropic": cell("pass")}}), s2)
    assert report.published, report.problems
    assert len(commits(bare, "ccmatrix/update")) == 2  # branched from main
    assert len(commits(bare, "main")) == 1
    files = git("--git-dir", str(bare), "ls-tree", "-r", "--name-only", "ccmatrix/update").split()
    assert sorted(files) == ["compatibility-matrix.json", "docs/matrix/compatibility-matrix.json"]


def test_concurrent_update_is_refetched_not_overwritten(tmp_path, bare):
    s = settings(tmp_path, bare)
    publish_run(matrix(run_id="r1"), s)
    other = tmp_path / "other-clone"
    git("clone", "-q", str(bare), str(other))
    (other / "README.md").write_text("docs\n")
    git("-c", "user.name=x", "-c", "user.email=x@x", "-C", str(other), "add", "README.md")
    git("-c", "user.name=x", "-c", "user.email=x@x", "-C", str(other), "commit", "-qm", "readme")
    git("-C", str(other), "push", "-q", "origin", "main")
    report = publish_run(matrix(run_id="r2", cells={"basic_messaging": {"anthropic": cell("error", error="e")}}), s)
    assert report.published, report.problems
    files = git("--git-dir", str(bare), "ls-tree", "-r", "--name-only", "main").split()
    assert sorted(files) == ["README.md", "compatibility-matrix.json"]
    assert len(commits(bare)) == 3


def test_normalized_ignores_generated_at_and_run_id_only():
    a = to_json(matrix(run_id="a"))
    b = to_json(matrix(run_id="b"))
    assert a != b and normalized(a) == normalized(b)
    c = to_json(matrix(run_id="a", litellm_version="9.9.9"))
    assert normalized(a) != normalized(c)


def test_credentials_in_the_url_are_refused_without_echoing_them(tmp_path):
    with pytest.raises(PublishRefused) as info:
        publish_run(matrix(), settings(tmp_path, f"https://user:{TOKEN}@example.invalid/docs.git"))
    assert TOKEN not in str(info.value)
    assert not (tmp_path / "out").exists()


def test_credentials_file_formats(tmp_path):
    f = tmp_path / "cred"
    f.write_text(TOKEN + "\n")
    c = load_credentials(Settings(git_credentials_file=f), {})
    assert c.secret == TOKEN and TOKEN not in repr(c)
    f.write_text(f"username=bot\npassword={TOKEN}\n")
    c = load_credentials(Settings(git_credentials_file=f), {})
    assert (c.username, c.secret) == ("bot", TOKEN)
    f.write_text(f"bot:{TOKEN}\n")
    assert load_credentials(Settings(git_credentials_file=f), {}).username == "bot"
    assert load_credentials(Settings(), {"CCMATRIX_GIT_TOKEN": TOKEN}).secret == TOKEN
    assert load_credentials(Settings(), {}) is None


def test_redact():
    assert redact(f"fatal: https://bot:{TOKEN}@h/x.git {TOKEN}", [TOKEN]) == "fatal: https://***@h/x.git ***"


def _everything_git_knows(repo_dir: Path) -> str:
    text = git("--git-dir", str(repo_dir), "log", "--all", "-p", "--format=%H%n%an %ae%n%B")
    config = (repo_dir / "config").read_text()
    return text + config


def test_token_over_http_reaches_the_server_and_nothing_else(tmp_path, monkeypatch, caplog):
    root = tmp_path / "srv"
    root.mkdir()
    git("init", "-q", "--bare", "--initial-branch=main", str(root / "docs.git"))
    git("--git-dir", str(root / "docs.git"), "config", "http.receivepack", "true")
    monkeypatch.setenv("CCMATRIX_GIT_TOKEN", TOKEN)
    caplog.set_level(logging.DEBUG)
    with GitHTTPServer(root, "x-access-token", TOKEN) as server:
        s = settings(tmp_path, f"{server.url}/docs.git")
        report = publish_run(matrix(run_id="http-1"), s)
        assert report.published, report.problems
        assert server.seen_authorizations  # the token was really used, over the wire only
        again = publish_run(matrix(run_id="http-2"), s)
        assert again.skipped and not again.targets
    assert len(commits(root / "docs.git")) == 1
    workdir = next(p for p in (tmp_path / "cache" / "publish" / "git").iterdir() if p.is_dir())
    leaks = {
        "bare repo log/config": _everything_git_knows(root / "docs.git"),
        "work dir log/config": _everything_git_knows(workdir / ".git"),
        "report": report.model_dump_json() + again.model_dump_json(),
        "logs": caplog.text,
        "out dir": "".join(p.read_text() for p in (tmp_path / "out").rglob("*") if p.is_file()) if (tmp_path / "out").exists() else "",
        "history": "".join(p.read_text() for p in (tmp_path / "history").rglob("*.json")),
    }
    for where, text in leaks.items():
        assert TOKEN not in text, where
    assert "askpass" not in (workdir / ".git" / "config").read_text().lower()


def test_wrong_token_fails_with_a_redacted_problem(tmp_path, monkeypatch, caplog):
    root = tmp_path / "srv"
    root.mkdir()
    git("init", "-q", "--bare", "--initial-branch=main", str(root / "docs.git"))
    monkeypatch.setenv("CCMATRIX_GIT_TOKEN", TOKEN)
    caplog.set_level(logging.DEBUG)
    with GitHTTPServer(root, "x-access-token", "the-right-one") as server:
        report = publish_run(matrix(), settings(tmp_path, f"{server.url}/docs.git", publishers="directory,git"))
    assert not report.published
    assert len(report.problems) == 1 and "git publisher failed" in report.problems[0]
    assert any(t.endswith("index.html") for t in report.targets)  # the directory publisher still ran
    assert TOKEN not in report.model_dump_json() and TOKEN not in caplog.text
    assert commits(root / "docs.git", "--all") == []


def test_token_from_credentials_file(tmp_path, monkeypatch):
    root = tmp_path / "srv"
    root.mkdir()
    git("init", "-q", "--bare", "--initial-branch=main", str(root / "docs.git"))
    git("--git-dir", str(root / "docs.git"), "config", "http.receivepack", "true")
    monkeypatch.delenv("CCMATRIX_GIT_TOKEN", raising=False)
    cred = tmp_path / "git-credentials"
    cred.write_text(f"username=bot\npassword={TOKEN}\n")
    with GitHTTPServer(root, "bot", TOKEN) as server:
        report = publish_run(matrix(), settings(tmp_path, f"{server.url}/docs.git", git_credentials_file=cred))
    assert report.published, report.problems
    assert TOKEN not in _everything_git_knows(root / "docs.git")


def test_relative_local_repo_path(tmp_path, bare, monkeypatch):
    monkeypatch.chdir(bare.parent)
    report = publish_run(matrix(), settings(tmp_path, "docs.git"))
    assert report.published, report.problems
    assert len(commits(bare)) == 1


def test_inherited_git_trace_cannot_leak_the_token(tmp_path, monkeypatch, capfd):
    root = tmp_path / "srv"
    root.mkdir()
    git("init", "-q", "--bare", "--initial-branch=main", str(root / "docs.git"))
    git("--git-dir", str(root / "docs.git"), "config", "http.receivepack", "true")
    monkeypatch.setenv("CCMATRIX_GIT_TOKEN", TOKEN)
    monkeypatch.setenv("GIT_TRACE_CURL", "1")  # would print the Authorization header if inherited
    monkeypatch.setenv("GIT_CURL_VERBOSE", "1")
    with GitHTTPServer(root, "x-access-token", TOKEN) as server:
        report = publish_run(matrix(), settings(tmp_path, f"{server.url}/docs.git"))
    assert report.published, report.problems
    captured = capfd.readouterr()
    assert TOKEN not in captured.out + captured.err
