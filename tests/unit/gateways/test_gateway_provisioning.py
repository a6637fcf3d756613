"""Provisioning a gateway from npm (ccmatrix.provision.ensure_npm, used by the Portkey and claude-code-router plug-ins)
and resolving `latest` (gateways/_npm.py), against a stand-in `npm` on PATH that installs what it is asked for and
counts its calls: idempotent (a second call runs nothing), locked (two at once run npm once), the pin forced over a
nested copy, and a registry with nothing installable refused in one line."""
from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import pytest

from ccmatrix.provision import ProvisionError, ensure_npm, npm_installed_version
from gateways import _npm

FAKE_NPM = r'''#!PYTHON
import json, os, sys, time
from pathlib import Path
args = sys.argv[1:]
with open(os.environ["FAKE_NPM_CALLS"], "a") as fh:
    fh.write(" ".join(args) + "\n")
time.sleep(0.3)  # long enough for a second caller to arrive while this one installs
prefix = Path(args[args.index("--prefix") + 1])
overrides = json.loads((prefix / "package.json").read_text()).get("overrides", {}) if (prefix / "package.json").exists() else {}
def put(where, name, version):
    (where / name).mkdir(parents=True, exist_ok=True)
    (where / name / "package.json").write_text(json.dumps({"name": name, "version": version}))
for spec in [a for a in args if not a.startswith("-") and a != str(prefix) and a != "install"]:
    name, _, version = spec.rpartition("@")
    put(prefix / "node_modules", name, version)
    nested = os.environ.get("FAKE_NPM_NESTED")  # "name@version": a dependency the package brings in its own tree
    if nested:
        dep, _, dep_version = nested.rpartition("@")
        if os.environ.get("FAKE_NPM_IGNORE_OVERRIDES") or dep not in overrides:
            put(prefix / "node_modules" / name / "node_modules", dep, dep_version)
        else:
            put(prefix / "node_modules", dep, overrides[dep])
'''


@pytest.fixture
def fake_npm(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    npm = bin_dir / "npm"
    npm.write_text(FAKE_NPM.replace("PYTHON", sys.executable))
    npm.chmod(0o755)
    calls = tmp_path / "npm-calls.txt"
    calls.write_text("")
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setenv("FAKE_NPM_CALLS", str(calls))
    return lambda: [line for line in calls.read_text().splitlines() if line]


def test_install_once_then_nothing(tmp_path, fake_npm):
    target = tmp_path / "cache" / "portkey" / "1.15.2"
    assert ensure_npm(target, "@portkey-ai/gateway", "1.15.2") == target
    assert npm_installed_version(target, "@portkey-ai/gateway") == "1.15.2"
    assert len(fake_npm()) == 1 and "@portkey-ai/gateway@1.15.2" in fake_npm()[0]
    ensure_npm(target, "@portkey-ai/gateway", "1.15.2")
    assert len(fake_npm()) == 1, "the second call must not run npm again"
    assert not list(target.parent.glob(".*staging")), "the staging tree was renamed into place"


def test_two_callers_at_once_install_once(tmp_path, fake_npm):
    target = tmp_path / "cache" / "claude-code-router" / "2.0.0"
    errors = []

    def provision():
        try:
            ensure_npm(target, "@musistudio/claude-code-router", "2.0.0")
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=provision) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(fake_npm()) == 1
    assert npm_installed_version(target, "@musistudio/claude-code-router") == "2.0.0"


def test_a_pin_is_forced_on_the_nested_copy_too(tmp_path, fake_npm, monkeypatch):
    monkeypatch.setenv("FAKE_NPM_NESTED", "@hono/node-server@1.19.19")
    target = tmp_path / "portkey" / "1.15.2"
    ensure_npm(target, "@portkey-ai/gateway", "1.15.2", ("@hono/node-server@1.14.1",))
    assert json.loads((target / "package.json").read_text())["overrides"] == {"@hono/node-server": "1.14.1"}
    assert npm_installed_version(target, "@hono/node-server") == "1.14.1"
    assert not list(target.glob("node_modules/**/node_modules/@hono/node-server"))


def test_a_pin_npm_did_not_honour_is_a_provision_error(tmp_path, fake_npm, monkeypatch):
    monkeypatch.setenv("FAKE_NPM_NESTED", "@hono/node-server@1.19.19")
    monkeypatch.setenv("FAKE_NPM_IGNORE_OVERRIDES", "1")
    target = tmp_path / "portkey" / "1.15.2"
    with pytest.raises(ProvisionError, match=r"@hono/node-server \['1.19.19'\].*not only the pinned 1.14.1"):
        ensure_npm(target, "@portkey-ai/gateway", "1.15.2", ("@hono/node-server@1.14.1",))
    assert not (target / ".ccmatrix-ok").exists()


def test_an_npm_failure_is_a_provision_error_naming_the_install(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "npm").write_text("#!/bin/sh\nexit 1\n")
    (bin_dir / "npm").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    with pytest.raises(ProvisionError, match="npm install @portkey-ai/gateway@9.9.9"):
        ensure_npm(tmp_path / "p" / "9.9.9", "@portkey-ai/gateway", "9.9.9")


def test_latest_is_the_newest_final_release_that_installs(tmp_path):
    metadata = {"versions": {"1.14.0": {}, "1.15.2": {}, "1.16.0-beta.1": {}, "3.1.1": {}, "2.0.0": {}}}
    probed = []

    def probe(version):
        probed.append(version)
        return "npm error 404 Not Found - GET https://registry.npmjs.org/@x%2fdep" if version == "3.1.1" else None

    got = _npm.resolve("claude-code-router", "@musistudio/claude-code-router", "latest", cache_dir=tmp_path,
                       fetch=lambda url: metadata, probe=probe)
    assert got == "2.0.0" and probed == ["3.1.1", "2.0.0"]
    memory = json.loads((tmp_path / "resolve" / "claude-code-router.json").read_text())
    assert memory["version"] == "2.0.0" and memory["skipped"][0]["version"] == "3.1.1"
    assert _npm.resolve("claude-code-router", "x", "latest", cache_dir=tmp_path, offline=True) == "2.0.0"
    assert _npm.resolve("portkey", "x", "1.15.2", cache_dir=tmp_path, fetch=None) == "1.15.2"  # a pin is a pin


def test_nothing_installable_or_no_memory_is_one_line(tmp_path):
    from ccmatrix.resolve import ResolveError

    with pytest.raises(ResolveError) as error:
        _npm.resolve("portkey", "@portkey-ai/gateway", "latest", cache_dir=tmp_path,
                     fetch=lambda url: {"versions": {"1.0.0": {}}}, probe=lambda v: "broken")
    assert "\n" not in str(error.value) and "1.0.0: broken" in str(error.value)
    with pytest.raises(ResolveError, match="--offline: no earlier resolution of portkey"):
        _npm.resolve("portkey", "@portkey-ai/gateway", "latest", cache_dir=tmp_path, offline=True)


def test_why_a_release_does_not_install_names_what_the_registry_lacks():
    stderr = ("npm error code E404\nnpm error 404 Not Found - GET https://registry.npmjs.org/@the-next-ai%2fai-gateway\n"
              "npm error 404\nnpm error 404  The requested resource '@the-next-ai/ai-gateway@^1.0.21' could not be "
              "found or you do not have permission to access it.\nnpm error A complete log of this run can be found "
              "in: /root/.npm/_logs/x.log\n")
    assert _npm.explain_npm_failure(stderr) == ("The requested resource '@the-next-ai/ai-gateway@^1.0.21' could not "
                                                "be found or you do not have permission to access it.")
    assert _npm.explain_npm_failure("npm error code ETARGET\nnpm error notarget No matching version\n"
                                    "npm error A complete log of this run\n") == "notarget No matching version"
    assert _npm.explain_npm_failure("", 7) == "npm exited 7"
