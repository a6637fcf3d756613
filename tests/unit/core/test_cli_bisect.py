"""`ccmatrix bisect` and `ccmatrix corpus run` through click's CliRunner, with the cell runner and the release list
stubbed at their seams (ccmatrix.cli_bisect.open_runner / final_releases); the search and the verdicts are real."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from ccmatrix import cli_bisect
from ccmatrix.cli import cli
from ccmatrix.contract import CellOutcome
from ccmatrix.corpus import load_corpus
from ccmatrix.manifest import load_manifest
from ccmatrix.outcomes import Evidence, GatewayResponse, TierResult
from ccmatrix.probes import Ran

RELEASES = ["1.93.0", "1.94.0", "1.95.0", "1.96.0", "1.97.0", "1.98.0", "1.99.0"]


@pytest.fixture(scope="module")
def manifest():
    return load_manifest()


@pytest.fixture
def cell_ids(manifest):
    feature = next(f for f in manifest.features if not f.tiers)
    provider = next(p for p in manifest.providers if p.id not in (feature.not_applicable or {}))
    return feature.id, provider.id


class FakeRunner:
    """The runner seam: answers each cell from `answer(cell)`; records what it was asked."""

    def __init__(self, answer, slots=1):
        self.answer = answer
        self.slots = slots
        self.asked = []
        self.entered = self.exited = False

    def __call__(self, concurrency=None):
        return self

    def __enter__(self):
        self.entered = True
        return self

    def __exit__(self, *exc):
        self.exited = True

    def run(self, cells):
        self.asked.append([c.litellm_version for c in cells])
        return [self.answer(cell) for cell in cells]


def cell_outcome(cell, status: str, body: str | None = None) -> CellOutcome:
    tiers = {}
    for tier in cell.tiers or ["haiku"]:
        if status == "pass":
            tiers[tier] = TierResult.passed()
        elif status == "fail":
            tiers[tier] = TierResult.failed("turn 2 lost the thinking block", evidence=Evidence(
                assertion="thinking replayed", gateway_response=GatewayResponse(status=400, body=body) if body else None))
        else:
            tiers[tier] = TierResult.errored("proxy did not boot")
    return CellOutcome.from_tiers(cell.feature, cell.provider, tiers)


def fixed_from(first: str, skip=(), error=()):
    def answer(cell):
        version = cell.litellm_version
        if version in skip:
            return Ran(cell, not_run=f"litellm {version} does not install: no wheel")
        if version in error:
            return Ran(cell, failed="the local worker died")
        status = "pass" if RELEASES.index(version) >= RELEASES.index(first) else "fail"
        return Ran(cell, outcome=cell_outcome(cell, status))
    return answer


def invoke(args, runner, monkeypatch, releases=RELEASES):
    monkeypatch.setattr(cli_bisect, "open_runner", runner)
    monkeypatch.setattr(cli_bisect, "final_releases", lambda axis: list(releases))
    monkeypatch.setattr(cli_bisect, "resolve_pin", lambda axis, version: "2.1.999" if version == "latest" else version)
    return CliRunner().invoke(cli, args)


def test_bisect_prints_each_probe_and_the_first_fixed_release_last(monkeypatch, cell_ids):
    feature, provider = cell_ids
    runner = FakeRunner(fixed_from("1.97.0"))
    result = invoke(["bisect", "--feature", feature, "--provider", provider, "--good", "1.99.0", "--bad", "1.93.0",
                     "--claude-code-version", "2.1.197"], runner, monkeypatch)
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == ("first fixed release: 1.97.0 (last bad: 1.96.0) — release notes: "
                         "https://github.com/BerriAI/litellm/releases/tag/v1.97.0-stable (or /v1.97.0)")
    assert "probe 1.93.0: fail [gateway]" in result.stdout and "probe 1.99.0: pass" in result.stdout
    assert runner.asked[0] == ["1.93.0", "1.99.0"] and runner.entered and runner.exited
    assert all(len(batch) == 1 for batch in runner.asked[1:])  # one slot: one probe at a time


def test_bisect_sends_as_many_probes_at_once_as_the_worker_has_slots(monkeypatch, cell_ids):
    feature, provider = cell_ids
    runner = FakeRunner(fixed_from("1.95.0"), slots=2)
    result = invoke(["bisect", "--feature", feature, "--provider", provider, "--good", "1.99.0", "--bad", "1.93.0"],
                    runner, monkeypatch)
    assert result.exit_code == 0, result.output
    assert len(runner.asked[1]) == 2
    assert result.stdout.strip().splitlines()[-1].startswith("first fixed release: 1.95.0 (last bad: 1.94.0)")


def test_bisect_reports_skips_and_error_retries_and_excludes_them(monkeypatch, cell_ids):
    feature, provider = cell_ids
    runner = FakeRunner(fixed_from("1.98.0", skip={"1.96.0"}, error={"1.97.0"}))
    result = invoke(["bisect", "--feature", feature, "--provider", provider, "--good", "1.99.0", "--bad", "1.93.0"],
                    runner, monkeypatch)
    assert result.exit_code == 0, result.output
    assert "probe 1.96.0: skipped — litellm 1.96.0 does not install: no wheel" in result.stdout
    assert "probe 1.97.0 (retry): error [infrastructure] — the local worker died" in result.stdout
    assert "excluded 1.97.0: error twice" in result.stdout
    assert result.stdout.strip().splitlines()[-1].startswith("first fixed release: 1.98.0 (last bad: 1.95.0) — or "
                                                             "any of the untested 1.96.0, 1.97.0")


def test_bisect_endpoint_not_as_claimed_is_one_line_and_exit_1(monkeypatch, cell_ids):
    feature, provider = cell_ids
    runner = FakeRunner(lambda cell: Ran(cell, outcome=cell_outcome(cell, "pass")))
    result = invoke(["bisect", "--feature", feature, "--provider", provider, "--good", "1.99.0", "--bad", "1.93.0"],
                    runner, monkeypatch)
    assert result.exit_code == 1
    assert result.stdout.strip().splitlines()[-1] == "bisect: --bad 1.93.0 is not bad: the cell is pass there " \
                                                     "(expected fail)"
    assert runner.exited


def test_bisect_refuses_pinning_the_searched_axis_and_unknown_releases(monkeypatch, cell_ids):
    feature, provider = cell_ids
    runner = FakeRunner(fixed_from("1.97.0"))
    pinned = invoke(["bisect", "--feature", feature, "--provider", provider, "--good", "1.99.0", "--bad", "1.93.0",
                     "--litellm-version", "1.93.0"], runner, monkeypatch)
    assert pinned.exit_code == 2 and "refused: --litellm-version pins the other axis" in pinned.stderr
    unknown = invoke(["bisect", "--feature", feature, "--provider", provider, "--good", "1.99.9", "--bad", "1.93.0"],
                     runner, monkeypatch)
    assert unknown.exit_code == 2 and "1.99.9 is not a known final release" in unknown.stderr
    bad_feature = invoke(["bisect", "--feature", "no_such_row", "--provider", provider, "--good", "1.99.0",
                          "--bad", "1.93.0"], runner, monkeypatch)
    assert bad_feature.exit_code == 2 and bad_feature.stderr.startswith("refused:")
    assert runner.asked == [] and not runner.entered


def test_bisect_on_the_claude_code_axis_pins_litellm(monkeypatch, cell_ids):
    feature, provider = cell_ids
    seen = []

    def answer(cell):
        seen.append((cell.litellm_version, cell.claude_code_version))
        return Ran(cell, outcome=cell_outcome(cell, "fail" if cell.claude_code_version == "2.1.1" else "pass"))

    result = invoke(["bisect", "--feature", feature, "--provider", provider, "--axis", "claude-code",
                     "--good", "2.1.1", "--bad", "2.1.3", "--litellm-version", "1.93.0"], FakeRunner(answer),
                    monkeypatch, releases=["2.1.1", "2.1.2", "2.1.3"])
    assert result.exit_code == 1  # the good endpoint fails: the refusal names it
    assert {litellm for litellm, _ in seen} == {"1.93.0"}
    assert "bisect: --good 2.1.1 is not good: the cell is fail there" in result.stdout


# --- corpus run ----------------------------------------------------------------------------------------------------
def test_corpus_run_prints_one_line_per_case_the_score_last_and_writes_the_report(monkeypatch, tmp_path):
    cases = [c for c in load_corpus() if not c.is_open][:2]
    first, second = cases
    # each case runs at its newest buggy release (Case.last_buggy) and at its fixed one
    fabricated = {(first.id, first.last_buggy): "fail", (first.id, first.fixed): "pass",
                  (second.id, second.last_buggy): "pass", (second.id, second.fixed): "pass"}

    def answer(cell):
        case = first if (cell.feature, cell.provider) == (first.cell.feature, first.cell.provider) and \
            cell.litellm_version in (first.last_buggy, first.fixed) else second
        body = f"400: {case.match[0]}" if case.match else None  # red for the case's reason
        return Ran(cell, outcome=cell_outcome(cell, fabricated[(case.id, cell.litellm_version)], body=body))

    report = tmp_path / "corpus-report.json"
    runner = FakeRunner(answer)
    result = invoke(["corpus", "run", first.id, second.id, "--report", str(report)], runner, monkeypatch)
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "corpus: 1/2 reproduced"
    assert lines[0].startswith(f"{first.id}: reproduced: red at buggy {first.last_buggy}")
    assert lines[1] == f"{second.id}: not reproduced: green at buggy {second.last_buggy}"
    assert runner.asked == [[first.last_buggy, first.fixed, second.last_buggy, second.fixed]]
    document = json.loads(report.read_text())
    assert document["score"] == "corpus: 1/2 reproduced" and [c["case"] for c in document["cases"]] == \
        [first.id, second.id]


def test_corpus_run_versions_that_do_not_install_are_not_run(monkeypatch, tmp_path):
    case = next(c for c in load_corpus() if c.is_open)
    runner = FakeRunner(lambda cell: Ran(cell, not_run=f"litellm {cell.litellm_version} does not install: x"))
    result = invoke(["corpus", "run", case.id, "--report", str(tmp_path / "r.json")], runner, monkeypatch)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines() == [
        f"{case.id}: not run: buggy {case.last_buggy}: litellm {case.last_buggy} does not install: x",
        "corpus: 0/1 reproduced"]
    assert runner.asked == [[case.last_buggy]]  # an open case: the buggy release only


def test_corpus_run_refuses_an_unknown_case(monkeypatch):
    runner = FakeRunner(lambda cell: None)
    result = invoke(["corpus", "run", "no-such-case"], runner, monkeypatch)
    assert result.exit_code == 2 and "unknown case(s) ['no-such-case']" in result.stderr
    assert not runner.entered
