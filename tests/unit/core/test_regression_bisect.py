"""Automatic bisect of green→red cells (ccmatrix.regression_bisect, `ccmatrix bisect-regressions`): the plan (which
axis, which range, which tiers), the search through the real ccmatrix.bisect with the cell runner and the release
list stubbed at their seams, and the result stored in the history and shown on the page and in the report."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from ccmatrix import regression_bisect as rb
from ccmatrix.cli import cli
from ccmatrix.contract import CellOutcome
from ccmatrix.matrix import TierModel, to_json
from ccmatrix.outcomes import Evidence, TierResult
from ccmatrix.probes import Ran
from ccmatrix.publish import publish_run
from ccmatrix.publish.history import History
from ccmatrix.publish.regressions import compare
from ccmatrix.publish.samples import FIRST, SECOND, cell, matrix, tier
from ccmatrix.settings import Settings

T0 = datetime(2026, 5, 1, 4, 0, tzinfo=timezone.utc)
LITELLM = ["1.106.2", "1.107.0", "1.107.1", "1.108.0", "1.108.3", "1.108.4", "1.109.0"]
CLAUDE = ["2.1.300", "2.1.310", "2.1.319", "2.1.320", "2.1.330"]


def run(run_id, day, litellm, claude="2.1.300", red=False, tier_models=None, profile=None):
    tool_use = cell("pass") if not red else cell("fail", error="thinking replayed", tiers={
        "haiku": tier("pass"), "sonnet": tier("fail", error="turn 2 lost the thinking block"), "opus": tier("pass")})
    m = matrix({"tool_use": {FIRST: tool_use, SECOND: cell("pass")},
                "streaming": {FIRST: cell("pass"), SECOND: cell("pass")}},
               run_id=run_id, litellm_version=litellm, claude_code_version=claude,
               generated_at=T0 + timedelta(days=day), gateway_profile=profile)
    if tier_models:
        m.tier_models = {t: TierModel(model=mid, policy="explicit", requested=mid, source="--tier-models")
                         for t, mid in tier_models.items()}
    return m


def doc(m):
    return json.loads(to_json(m))


def plans_for(old, new):
    a, b = doc(old), doc(new)
    return rb.plan(compare(a, b), a, b)


# --- the plan: which axis, which range ---------------------------------------------------------------------------

def test_litellm_changed_bisects_litellm_with_claude_code_pinned_and_only_the_red_tiers():
    models = {"haiku": "claude-haiku-4-5", "sonnet": "claude-sonnet-4-5"}
    (p,) = plans_for(run("a", 0, "1.106.2"), run("b", 1, "1.108.4", red=True, tier_models=models,
                                                 profile={"name": "recommended", "settings": {}}))
    assert (p.feature, p.provider, p.axis, p.good, p.bad, p.pinned) == ("tool_use", FIRST, "litellm", "1.106.2",
                                                                        "1.108.4", "2.1.300")
    assert p.tiers == ["sonnet"] and p.tier_models == models and p.gateway_profile == "recommended"
    assert p.fallback is None
    c = p.cell("1.107.1")
    assert (c.litellm_version, c.claude_code_version, c.tiers) == ("1.107.1", "2.1.300", ["sonnet"])


def test_only_claude_code_changed_bisects_claude_code_with_litellm_pinned():
    (p,) = plans_for(run("a", 0, "1.108.4", claude="2.1.300"), run("b", 1, "1.108.4", claude="2.1.330", red=True))
    assert (p.axis, p.good, p.bad, p.pinned) == ("claude-code", "2.1.300", "2.1.330", "1.108.4")
    c = p.cell("2.1.319")
    assert (c.litellm_version, c.claude_code_version) == ("1.108.4", "2.1.319")


def test_both_changed_searches_litellm_first_with_the_claude_code_axis_as_fallback():
    (p,) = plans_for(run("a", 0, "1.106.2", claude="2.1.300"), run("b", 1, "1.108.4", claude="2.1.330", red=True))
    assert (p.axis, p.good, p.bad, p.pinned) == ("litellm", "1.106.2", "1.108.4", "2.1.330")
    f = p.fallback
    assert (f.axis, f.good, f.bad, f.pinned) == ("claude-code", "2.1.300", "2.1.330", "1.106.2")


def test_the_same_releases_on_both_runs_are_not_bisected():
    (p,) = plans_for(run("a", 0, "1.108.4"), run("b", 1, "1.108.4", red=True))
    assert p.axis is None and p.skip.outcome == "same_releases"
    assert p.skip.text.startswith("no bisect: the same releases (LiteLLM 1.108.4, Claude Code 2.1.300) on both runs "
                                  "— the change is elsewhere")
    (p,) = plans_for(run("a", 0, "1.108.4", profile={"name": "defaults", "settings": {}}),
                     run("b", 1, "1.108.4", red=True, profile={"name": "recommended", "settings": {}}))
    assert "the gateway profile changed: defaults → recommended" in p.skip.text


def test_a_local_litellm_source_cannot_be_bisected():
    local = "/src/litellm#sha256=" + "a" * 64 + "&declares=1.108.4"  # a local tree's spec (local_source.SPEC)
    (p,) = plans_for(run("a", 0, "1.106.2"), run("b", 1, local, red=True))
    assert p.axis is None and p.skip.outcome == "could_not" and "local LiteLLM source" in p.skip.text


def test_cells_that_did_not_go_green_to_red_are_not_planned():
    assert plans_for(run("a", 0, "1.106.2", red=True), run("b", 1, "1.108.4")) == []  # red → green
    assert plans_for(run("a", 0, "1.106.2"), run("b", 1, "1.108.4")) == []


# --- the search, with the runner stubbed at its seam ----------------------------------------------------------------

class FakeRunner:
    """The runner seam (ccmatrix.regression_bisect.open_runner): answers each cell from `answer(cell)`."""

    def __init__(self, answer, slots=1):
        self.answer, self.slots, self.asked = answer, slots, []

    def __call__(self, concurrency=None):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def run(self, cells):
        self.asked.append([(c.litellm_version, c.claude_code_version, tuple(c.tiers or ())) for c in cells])
        return [self.answer(c) for c in cells]


def outcome(c, status):
    tiers = {t: (TierResult.passed() if status == "pass" else TierResult.failed(
        "turn 2 lost the thinking block", evidence=Evidence(assertion="thinking replayed"))) for t in c.tiers or ["haiku"]}
    return CellOutcome.from_tiers(c.feature, c.provider, tiers)


def broke_at(first_bad, axis="litellm", releases=LITELLM):
    def answer(c):
        version = c.litellm_version if axis == "litellm" else c.claude_code_version
        return Ran(c, outcome=outcome(c, "fail" if releases.index(version) >= releases.index(first_bad) else "pass"))
    return answer


@pytest.fixture
def seams(monkeypatch):
    lists = {"litellm": LITELLM, "claude-code": CLAUDE}
    monkeypatch.setattr(rb, "final_releases", lambda axis: lists[axis])

    def install(answer, slots=1):
        runner = FakeRunner(answer, slots)
        monkeypatch.setattr(rb, "open_runner", runner)
        return runner
    return install


def test_run_finds_the_first_bad_litellm_release(seams):
    runner = seams(broke_at("1.108.3"))
    (p,) = plans_for(run("a", 0, "1.106.2"), run("b", 1, "1.108.4", red=True))
    lines = []
    result = rb.run([p], runner, say=lines.append, baseline_run_id="a")[p.key]
    assert result.outcome == "found" and (result.first, result.last) == ("1.108.3", "1.108.0")
    assert result.text == "broke in LiteLLM 1.108.3 (last good: 1.108.0)"
    assert result.direction == "regression" and result.releases == 6 and result.probes == len(
        [v for batch in runner.asked for v in batch])
    assert result.notes_url and "1.108.3" in result.notes_url and result.baseline_run_id == "a"
    assert all(asked == ("sonnet",) for batch in runner.asked for (_, cc, asked) in batch)
    assert all(cc == "2.1.300" for batch in runner.asked for (_, cc, _) in batch)  # Claude Code pinned


def test_a_claude_code_change_is_named_as_such(seams):
    runner = seams(broke_at("2.1.320", axis="claude-code", releases=CLAUDE))
    (p,) = plans_for(run("a", 0, "1.108.4", claude="2.1.300"), run("b", 1, "1.108.4", claude="2.1.330", red=True))
    result = rb.run([p], runner, say=lambda _: None)[p.key]
    assert result.text == "changed with Claude Code 2.1.320 (last good: 2.1.319)"


def test_a_downgrade_reads_as_the_release_that_fixed_it(seams):
    # newer run at the older 1.100.x: green at 1.108.4 (baseline), red at 1.106.2 (new run), fixed in 1.108.0
    runner = seams(lambda c: Ran(c, outcome=outcome(c, "pass" if LITELLM.index(c.litellm_version) >= 3 else "fail")))
    (p,) = plans_for(run("a", 0, "1.108.4"), run("b", 1, "1.106.2", red=True))
    result = rb.run([p], runner, say=lambda _: None)[p.key]
    assert result.direction == "fix" and (result.first, result.last) == ("1.108.0", "1.107.1")
    assert result.text == ("fixed in LiteLLM 1.108.0 (last bad: 1.107.1): this run is at the older 1.106.2, "
                           "before the fix")


def test_both_changed_and_red_at_the_old_litellm_falls_back_to_claude_code(seams):
    # red whenever Claude Code is 2.1.320 or newer, whatever the LiteLLM release
    runner = seams(broke_at("2.1.320", axis="claude-code", releases=CLAUDE))
    (p,) = plans_for(run("a", 0, "1.106.2", claude="2.1.300"), run("b", 1, "1.108.4", claude="2.1.330", red=True))
    lines = []
    result = rb.run([p], runner, say=lines.append)[p.key]
    assert result.axis == "claude-code" and result.pinned == "1.106.2"
    assert result.text == "changed with Claude Code 2.1.320 (last good: 2.1.319)"
    assert any("searching the Claude Code releases instead" in line for line in lines)


def test_an_endpoint_that_is_not_what_the_runs_said_cannot_be_bisected(seams):
    runner = seams(lambda c: Ran(c, outcome=outcome(c, "pass")))  # flaky: green again at the bad end
    (p,) = plans_for(run("a", 0, "1.106.2"), run("b", 1, "1.108.4", red=True))
    result = rb.run([p], runner, say=lambda _: None)[p.key]
    assert result.outcome == "could_not"
    assert result.text.startswith("could not bisect: the bad end 1.108.4 is not bad: the cell is pass there")


def test_a_release_missing_from_the_index_cannot_be_bisected(seams):
    runner = seams(broke_at("1.108.3"))
    (p,) = plans_for(run("a", 0, "1.106.2"), run("b", 1, "1.999.0", red=True))
    result = rb.run([p], runner, say=lambda _: None)[p.key]
    assert result.outcome == "could_not" and "1.999.0 is not a known final release" in result.text
    assert runner.asked == []


# --- the command: history in, result stored, page and report rewritten ----------------------------------------------

def publish_two(tmp_path, old, new):
    s = Settings(out_dir=tmp_path / "out", publishers="directory")
    publish_run(old, s)
    publish_run(new, s)
    return s


def test_bisect_regressions_stores_the_result_and_the_page_and_report_show_it(tmp_path, seams, monkeypatch):
    runner = seams(broke_at("1.108.3"))
    publish_two(tmp_path, run("run-a", 0, "1.106.2"), run("run-b", 1, "1.108.4", red=True))
    done = CliRunner().invoke(cli, ["bisect-regressions", "--out-dir", str(tmp_path / "out")])
    assert done.exit_code == 0, done.output
    assert (f"tool_use/{FIRST}: broke in LiteLLM 1.108.3 (last good: 1.108.0)") in done.output
    assert "1 cell(s) went green→red" in done.output
    assert runner.asked

    entry = History(tmp_path / "out" / "history").resolve("run-b")
    stored = entry.bisects[f"tool_use/{FIRST}"]
    assert (stored.outcome, stored.first, stored.axis, stored.good, stored.bad, stored.pinned) == (
        "found", "1.108.3", "litellm", "1.106.2", "1.108.4", "2.1.300")
    page = (tmp_path / "out" / "index.html").read_text()
    data = json.loads(re.search(r'id="history-data">(.*?)</script>', page, re.S).group(1))
    assert data["bisects"][f"tool_use/{FIRST}"]["text"] == "broke in LiteLLM 1.108.3 (last good: 1.108.0)"
    md = (tmp_path / "out" / "regression-report.md").read_text()
    assert "### Bisected (1)" in md and "broke in LiteLLM 1.108.3 (last good: 1.108.0)" in md

    # again: already bisected, nothing probed
    runner.asked.clear()
    done = CliRunner().invoke(cli, ["bisect-regressions", "--out-dir", str(tmp_path / "out")])
    assert done.exit_code == 0 and "already bisected: broke in LiteLLM 1.108.3" in done.output
    assert runner.asked == []
    # history for the cell shows it
    done = CliRunner().invoke(cli, ["history", "--out-dir", str(tmp_path / "out"), "--feature", "tool_use",
                                    "--provider", FIRST])
    assert "bisect: broke in LiteLLM 1.108.3 (last good: 1.108.0)" in done.output


def test_bisect_regressions_with_the_same_releases_says_so_without_probing(tmp_path, seams):
    runner = seams(broke_at("1.108.3"))
    publish_two(tmp_path, run("run-a", 0, "1.108.4"), run("run-b", 1, "1.108.4", red=True))
    done = CliRunner().invoke(cli, ["bisect-regressions", "--out-dir", str(tmp_path / "out"), "--run", "run-b"])
    assert done.exit_code == 0
    assert f"tool_use/{FIRST}: no bisect: the same releases (LiteLLM 1.108.4, Claude Code 2.1.300)" in done.output
    assert runner.asked == []
    assert "no bisect: the same releases" in (tmp_path / "out" / "regression-report.md").read_text()


def test_bisect_regressions_without_a_baseline_or_a_run(tmp_path, seams):
    seams(broke_at("1.108.3"))
    done = CliRunner().invoke(cli, ["bisect-regressions", "--out-dir", str(tmp_path / "out")])
    assert done.exit_code == 2 and "no published run recorded" in done.output
    publish_run(run("run-a", 0, "1.106.2"), Settings(out_dir=tmp_path / "out", publishers="directory"))
    done = CliRunner().invoke(cli, ["bisect-regressions", "--out-dir", str(tmp_path / "out")])
    assert done.exit_code == 0 and "no published run before it" in done.output


def test_run_has_the_option_off_by_default():
    done = CliRunner().invoke(cli, ["run", "--help"])
    assert "--bisect-regressions" in done.output
    import click

    command = cli.commands["run"]
    param = next(p for p in command.params if p.name == "bisect_after")
    assert param.is_flag and not param.get_default(click.Context(command))
