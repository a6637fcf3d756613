"""The gate before a release: `--litellm-version` takes a local LiteLLM source tree or a built wheel.

Content hashes (tree and wheel), the version-spec parsing (release, latest, path, wheel, a path that is not there),
what the worker does with a spec it cannot provision, the matrix/page/regression label of such a run, and the
split-packaging decision (LiteLLM >= 1.110.0: `litellm[proxy]` needs `litellm-proxy==V`) from recorded pip output.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ccmatrix import local_source as ls
from ccmatrix import provision as pv
from ccmatrix import resolve as r

PIP = Path(__file__).resolve().parents[2] / "fixtures" / "pip"


def make_tree(root: Path, version: str = "1.106.2", name: str = "litellm") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(f'[tool.poetry]\nname = "{name}"\nversion = "{version}"\n')
    package = root / "litellm" / "proxy"
    package.mkdir(parents=True)
    (root / "litellm" / "__init__.py").write_text("")
    (package / "proxy_server.py").write_text('print("LiteLLM: Proxy initialized with Config")\nx = 1\n')
    return root


def make_wheel(directory: Path, version: str = "1.106.2", payload: bytes = b"PK fake wheel") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    wheel = directory / f"litellm-{version}-py3-none-any.whl"
    wheel.write_bytes(payload)
    return wheel


# --- content hash ---------------------------------------------------------------------------------------------
def test_a_one_line_change_changes_the_tree_hash_and_nothing_else_does(tmp_path):
    tree = make_tree(tmp_path / "litellm-1.106.2")
    before = ls.tree_sha256(tree)
    assert ls.tree_sha256(tree) == before, "stable"
    # .git, __pycache__ and node_modules are not part of the source
    (tree / ".git").mkdir()
    (tree / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (tree / "litellm" / "__pycache__").mkdir()
    (tree / "litellm" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0\1")
    (tree / "ui" / "node_modules" / "left-pad").mkdir(parents=True)
    (tree / "ui" / "node_modules" / "left-pad" / "index.js").write_text("module.exports = 1")
    assert ls.tree_sha256(tree) == before
    server = tree / "litellm" / "proxy" / "proxy_server.py"
    server.write_text(server.read_text().replace("Proxy initialized", "Proxy (gate build) initialized"))
    changed = ls.tree_sha256(tree)
    assert changed != before
    server.write_text('print("LiteLLM: Proxy initialized with Config")\nx = 1\n')
    assert ls.tree_sha256(tree) == before, "back to the same content, back to the same hash"


def test_the_tree_hash_covers_relative_paths_not_where_the_tree_lives(tmp_path):
    a = make_tree(tmp_path / "a")
    b = make_tree(tmp_path / "elsewhere" / "b")
    assert ls.tree_sha256(a) == ls.tree_sha256(b)
    (b / "litellm" / "proxy" / "proxy_server.py").rename(b / "litellm" / "proxy" / "server.py")
    assert ls.tree_sha256(a) != ls.tree_sha256(b), "a renamed file is a different tree"


def test_a_wheel_hash_is_the_sha256_of_the_file(tmp_path):
    wheel = make_wheel(tmp_path, payload=b"wheel bytes")
    assert ls.from_path(str(wheel)).sha256 == hashlib.sha256(b"wheel bytes").hexdigest()
    wheel.write_bytes(b"wheel bytes!")
    assert ls.from_path(str(wheel)).sha256 == hashlib.sha256(b"wheel bytes!").hexdigest()


# --- version-spec parsing -------------------------------------------------------------------------------------
def test_a_release_and_latest_are_no_paths():
    assert r.resolve_litellm("1.106.2", fetch=None).to_json() | {"resolved_at": None} == {
        "tool": "litellm", "requested": "1.106.2", "version": "1.106.2", "source": "pinned", "resolved_at": None,
        "skipped": [], "local": None}
    for value in ("1.106.2", "latest", "not a version"):
        assert not ls.looks_like_path(value)
    for value in ("./litellm", "../x", "/tmp/x", "~/src/litellm", "litellm-1.2.3-py3-none-any.whl"):
        assert ls.looks_like_path(value)


def test_a_tree_resolves_to_its_spec_path_hash_and_declared_version(tmp_path, monkeypatch):
    tree = make_tree(tmp_path / "litellm-1.106.2")
    monkeypatch.chdir(tmp_path)
    got = r.resolve_litellm("./litellm-1.106.2", fetch=None)  # no registry is asked
    digest = ls.tree_sha256(tree)
    assert got.version == f"{tree}#sha256={digest}&declares=1.106.2"
    assert got.requested == "./litellm-1.106.2" and got.source == f"local tree {tree}"
    assert got.local == {"kind": "tree", "path": str(tree), "sha256": digest, "declares": "1.106.2",
                         "label": f"LiteLLM local tree {tree} (sha256 {digest[:12]}…, declares 1.106.2)"}
    assert ls.parse_spec(got.version) == ls.LocalSource("tree", str(tree), digest, "1.106.2")


def test_a_wheel_resolves_to_its_spec(tmp_path):
    wheel = make_wheel(tmp_path / "dist", "1.107.0")
    got = r.resolve_litellm(str(wheel), fetch=None)
    source = ls.parse_spec(got.version)
    assert source.kind == "wheel" and source.path == str(wheel) and source.declares == "1.107.0"
    assert got.local["label"].startswith(f"LiteLLM local wheel {wheel} (sha256 ")


@pytest.mark.parametrize("make, fragment", [
    (lambda tmp: str(tmp / "nope"), "does not exist"),
    (lambda tmp: str(tmp / "litellm-9.9.9-py3-none-any.whl"), "does not exist"),
    (lambda tmp: (tmp / "empty").mkdir() or str(tmp / "empty"), "no pyproject.toml or setup.py"),
    (lambda tmp: str(make_tree(tmp / "other", name="openai-agents")), "not of litellm"),
    (lambda tmp: (tmp / "notes.txt").write_text("x") and str(tmp / "notes.txt"), "not a wheel"),
    (lambda tmp: (tmp / "requests-2.0.0-py3-none-any.whl").write_bytes(b"x") and
     str(tmp / "requests-2.0.0-py3-none-any.whl"), "not of litellm"),
])
def test_a_path_that_is_not_a_litellm_source_is_a_one_line_error(tmp_path, make, fragment):
    value = make(tmp_path)
    with pytest.raises(r.ResolveError) as caught:
        r.resolve_litellm(value, fetch=None)
    message = str(caught.value)
    assert fragment in message and "\n" not in message and value.split("/")[-1] in message


def test_a_missing_path_is_refused_before_anything_is_enqueued(tmp_path, monkeypatch):
    from ccmatrix.cli import cli
    from producer.enqueue import enqueue

    def forbidden(*_, **__):
        raise AssertionError("started something after a refusal")

    for target in ("ccmatrix.provision.ensure_claude", "ccmatrix.provision.ensure_litellm",
                   "ccmatrix.local_stack.LocalStack", "producer.submit.submit"):
        monkeypatch.setattr(target, forbidden)
    missing = str(tmp_path / "litellm-src")
    for command, args in ((cli, ["run", "--litellm-version", missing]),
                          (cli, ["provision", "--litellm-version", missing]),
                          (enqueue, ["--litellm-version", missing, "--wait"])):
        result = CliRunner().invoke(command, args, obj=None)
        assert result.exit_code == 2, result.output
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("refused: ") and missing in lines[0], result.stderr
        assert "does not exist" in lines[0]


def test_a_plan_on_a_tree_sends_every_job_the_spec_and_keeps_the_manifest_pin(tmp_path, monkeypatch):
    from ccmatrix.settings import get_settings
    from producer.plan import RunOptions, plan_run

    tree = make_tree(tmp_path / "src" / "litellm")
    monkeypatch.setenv("CCMATRIX_CACHE_DIR", str(tmp_path / "cache"))
    get_settings.cache_clear()
    try:
        plan = plan_run(RunOptions(litellm_version=str(tree), claude_code_version="2.1.197",
                                   features=["basic_messaging_streaming"], providers=["anthropic"]))
    finally:
        get_settings.cache_clear()
    spec = f"{tree}#sha256={ls.tree_sha256(tree)}&declares=1.106.2"
    assert plan.litellm_version == spec and {j.litellm_version for j in plan.jobs} == {spec}
    assert plan.versions["litellm"]["local"]["path"] == str(tree)
    assert plan.manifest["litellm_version"] != spec  # the manifest's own pin, not a path


# --- the worker's side -----------------------------------------------------------------------------------------
def test_the_venv_is_keyed_by_the_content_hash(tmp_path):
    source = ls.from_path(str(make_tree(tmp_path / "t")))
    assert pv.litellm_venv(tmp_path / "cache", source.spec) == tmp_path / "cache" / "litellm" / f"src-{source.sha256[:12]}"
    assert pv.litellm_venv(tmp_path / "cache", "1.106.2") == tmp_path / "cache" / "litellm" / "1.106.2"
    assert ls.slug(source.spec) == source.key and ls.slug("1.106.2") == "1.106.2"


def test_a_worker_without_the_path_gives_an_infrastructure_error_naming_it(tmp_path, monkeypatch):
    def no_pip(*_, **__):
        raise AssertionError("nothing is built for a source that is not here")

    monkeypatch.setattr(pv, "_run", no_pip)
    spec = f"/nowhere/litellm#sha256={'a' * 64}&declares=1.106.2"
    with pytest.raises(pv.ProvisionError) as caught:
        pv.ensure_litellm(tmp_path, spec)
    assert "/nowhere/litellm does not exist on this worker's host" in str(caught.value)


def test_a_tree_changed_after_planning_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(pv, "_run", lambda *_, **__: (_ for _ in ()).throw(AssertionError("built")))
    tree = make_tree(tmp_path / "t")
    spec = ls.from_path(str(tree)).spec
    (tree / "litellm" / "__init__.py").write_text("# edited after planning\n")
    with pytest.raises(pv.ProvisionError, match="changed since the run was planned"):
        pv.ensure_litellm(tmp_path / "cache", spec)


def _fake_pip(venv_version: str, calls: list):
    """`_run` that records the commands and makes the venv look like pip installed `venv_version`."""

    def run(cmd, what, timeout=1800, env=None):
        calls.append(cmd)
        if cmd[1:3] == ["-m", "venv"]:
            venv = Path(cmd[3])
            (venv / "bin").mkdir(parents=True)
            (venv / "bin" / "pip").write_text("")
        elif "install" in cmd and "--dry-run" not in cmd:
            venv = Path(cmd[0]).parent.parent
            (venv / "bin" / "litellm").write_text("")
            (venv / "lib" / "python3.11" / "site-packages" / f"litellm-{venv_version}.dist-info").mkdir(parents=True)
    return run


def test_a_tree_is_installed_as_path_with_the_proxy_extra_and_reports_its_spec(tmp_path, monkeypatch):
    tree = make_tree(tmp_path / "t")
    source = ls.from_path(str(tree))
    calls: list = []
    monkeypatch.setattr(pv, "_run", _fake_pip("1.106.2", calls))
    monkeypatch.setattr(pv, "release_metadata", lambda pip, target: {"version": "1.106.2", "requires_dist": []})
    venv = pv.ensure_litellm(tmp_path / "cache", source.spec)
    install = calls[-1]
    assert install[-2:] == [f"{tree}[proxy]", "google-auth"]
    # the cell reports what it ran: the source's spec, never the release number the package declares
    assert pv.litellm_installed_version(venv) == source.spec
    calls.clear()
    assert pv.ensure_litellm(tmp_path / "cache", source.spec) == venv and calls == [], "reused"


# --- split packaging (LiteLLM >= 1.110.0) ------------------------------------------------------------------------
def _requires(version: str) -> list[str]:
    return json.loads((PIP / f"report-litellm-{version}.json").read_text())["metadata"]["requires_dist"]


def test_the_split_proxy_package_is_read_from_the_release_metadata():
    assert pv.split_proxy_requirement(_requires("1.110.2"), "1.110.2") == "litellm-proxy==1.110.2"
    assert pv.split_proxy_requirement(_requires("1.106.2"), "1.106.2") is None
    # only the proxy extra counts
    assert pv.split_proxy_requirement(['litellm-proxy==2.0.0 ; extra == "other"'], "2.0.0") is None
    assert pv.litellm_requirements("litellm==1.110.2", {"requires_dist": _requires("1.110.2")}, "1.110.2") == [
        "litellm[proxy]==1.110.2", "litellm-proxy==1.110.2", "google-auth"]
    assert pv.litellm_requirements("litellm==1.106.2", {"requires_dist": _requires("1.106.2")}, "1.106.2") == [
        "litellm[proxy]==1.106.2", "google-auth"]


def test_a_split_release_installs_litellm_proxy_alongside(tmp_path, monkeypatch):
    calls: list = []
    monkeypatch.setattr(pv, "_run", _fake_pip("1.110.2", calls))
    monkeypatch.setattr(pv, "release_metadata",
                        lambda pip, target: {"version": "1.110.2", "requires_dist": _requires("1.110.2")})
    venv = pv.ensure_litellm(tmp_path, "1.110.2")
    assert calls[-1][-3:] == ["litellm[proxy]==1.110.2", "litellm-proxy==1.110.2", "google-auth"]
    assert pv.litellm_installed_version(venv) == "1.110.2"


def test_pip_failures_are_explained_from_what_pip_printed():
    split = r.explain_pip_failure((PIP / "dry-run-litellm-proxy-1.110.2.stderr").read_text(), "1.110.2")
    assert split == ("split packaging: litellm[proxy]==1.110.2 needs the separate distribution litellm-proxy==1.110.2, "
                     "which the package index does not serve")
    pinned = r.explain_pip_failure((PIP / "dry-run-litellm-proxy-1.109.3.stderr").read_text(), "1.109.3")
    assert pinned.startswith("litellm[proxy]==1.109.3 pins litellm-proxy-extras==0.4.113, which the package index "
                             "does not serve (the index's newest: 0.4.110)")
    other = r.explain_pip_failure("ERROR: ResolutionImpossible: for help visit https://pip.pypa.io\n", "1.2.3")
    assert other.startswith("ERROR: ResolutionImpossible")
    assert r.explain_pip_failure("", "1.2.3", 2) == "pip exited 2"


def test_latest_names_the_releases_skipped_for_split_packaging(tmp_path):
    stderr = {"1.110.2": (PIP / "dry-run-litellm-proxy-1.110.2.stderr").read_text(),
              "1.109.3": (PIP / "dry-run-litellm-proxy-1.109.3.stderr").read_text()}
    metadata = {"releases": {v: [{"yanked": False}] for v in ("1.110.2", "1.109.3", "1.108.7")}}

    def probe(version):
        return r.explain_pip_failure(stderr[version], version) if version in stderr else None

    got = r.resolve_litellm("latest", fetch=lambda url: metadata, probe=probe, cache=r.ProbeCache(None))
    assert got.version == "1.108.7"
    assert [s["version"] for s in got.skipped] == ["1.110.2", "1.109.3"]
    assert got.skipped[0]["reason"].startswith("split packaging: ")


# --- the matrix, the page, the regression report ---------------------------------------------------------------------
SPEC = f"/src/litellm#sha256={'ab' * 32}&declares=1.106.2"
LABEL = f"LiteLLM local tree /src/litellm (sha256 {'ab' * 6}…, declares 1.106.2)"


def test_the_matrix_records_the_source_and_the_page_labels_it():
    from ccmatrix.matrix import to_json, validate_document
    from ccmatrix.publish import samples
    from ccmatrix.publish.page import plain_table, render_page

    matrix = samples.matrix(litellm_version=SPEC)
    assert matrix.litellm_source is not None and matrix.litellm_source.label == LABEL
    document = json.loads(to_json(matrix))
    validate_document(document)
    assert document["litellm_source"] == {"kind": "tree", "path": "/src/litellm", "sha256": "ab" * 32,
                                          "declares": "1.106.2", "label": LABEL}
    assert LABEL in plain_table(document)
    assert "litellm-source" in render_page(document)  # the script's label for it
    release = json.loads(to_json(samples.matrix()))
    assert "litellm_source" not in release and "LiteLLM 1.106.2 ·" in plain_table(release)


def test_a_local_source_run_is_compared_with_the_last_published_release():
    from ccmatrix.publish import samples
    from ccmatrix.publish.regressions import compare

    baseline = samples.matrix(run_id="published")
    report = compare(baseline, samples.matrix(run_id="gate", litellm_version=SPEC))
    assert report.baseline_litellm_version == "1.106.2" and report.litellm_version == SPEC
    markdown = report.markdown()
    assert f"**{LABEL}**" in markdown and "against the last published run `published` (LiteLLM 1.106.2," in markdown


def test_fidelity_rules_see_the_declared_version():
    assert ls.release_of(SPEC) == "1.106.2" and ls.release_of("1.108.7") == "1.108.7"
    assert ls.release_of(f"/x#sha256={'0' * 64}") is None
