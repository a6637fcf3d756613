"""One cell across the kept runs: `ccmatrix history --feature F --provider P`, the page's timeline data, and a stored
bisect result shown on the page and in the regression report (fabricated matrices through the real publisher)."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

from click.testing import CliRunner

from ccmatrix.cli import cli
from ccmatrix.matrix import to_json
from ccmatrix.publish import publish_run, refresh_outputs
from ccmatrix.publish.history import CellBisect, History
from ccmatrix.publish.page import render_page
from ccmatrix.publish.samples import FIRST, NAMES, SECOND, cell, matrix, tier
from ccmatrix.publish.timeline import cell_history, page_data
from ccmatrix.settings import Settings

T0 = datetime(2026, 5, 1, 4, 0, tzinfo=timezone.utc)


def run(run_id, day, litellm, claude="2.1.197", tool_use=None, streaming="pass"):
    tool_use = tool_use or cell("pass")
    return matrix({"tool_use": {FIRST: tool_use, SECOND: cell("pass")},
                   "streaming": {FIRST: cell(streaming, error=None if streaming == "pass" else "boom"),
                                 SECOND: cell("pass")}},
                  run_id=run_id, litellm_version=litellm, claude_code_version=claude,
                  generated_at=T0 + timedelta(days=day))


def sonnet_red():
    return cell("fail", error="sonnet: thinking replayed", tiers={
        "haiku": tier("pass"), "sonnet": tier("fail", error="turn 2 lost the thinking block"), "opus": tier("pass")})


def doc(m):
    return json.loads(to_json(m))


def settings(tmp_path):
    return Settings(out_dir=tmp_path / "out", publishers="directory")


def history_data(page: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="history-data">(.*?)</script>', page, re.S).group(1))


def three_runs(tmp_path) -> History:
    h = History(tmp_path / "out" / "history")
    h.record(doc(run("run-1", 0, "1.106.2")))
    h.record(doc(run("run-2", 1, "1.107.0")), published=False)
    h.record(doc(run("run-3", 2, "1.108.4", tool_use=sonnet_red())))
    return h


# --- ccmatrix history --feature --provider ------------------------------------------------------------------------

def test_cell_history_is_newest_first_with_versions_tiers_and_bisect(tmp_path):
    h = three_runs(tmp_path)
    h.store_bisects("run-3", {f"tool_use/{FIRST}": CellBisect(
        feature="tool_use", provider=FIRST, outcome="found", text="broke in LiteLLM 1.108.4 (last good: 1.108.3)")})
    rows = cell_history(h.runs(), "tool_use", FIRST)
    assert [(r.run_id, r.litellm_version, r.status) for r in rows] == [
        ("run-3", "1.108.4", "fail"), ("run-2", "1.107.0", "pass"), ("run-1", "1.106.2", "pass")]
    assert rows[0].tiers == {"haiku": "pass", "sonnet": "fail", "opus": "pass"}
    assert rows[0].cause == "gateway" and rows[0].bisect.text.startswith("broke in LiteLLM 1.108.4")
    assert rows[1].published is False and rows[1].bisect is None
    assert cell_history(h.runs(), "tool_use", "nowhere") == []


def test_history_command_for_one_cell_plain_and_json(tmp_path):
    h = three_runs(tmp_path)
    h.store_bisects("run-3", {f"tool_use/{FIRST}": CellBisect(
        feature="tool_use", provider=FIRST, outcome="found", text="broke in LiteLLM 1.108.4 (last good: 1.108.3)")})
    out = str(tmp_path / "out")
    done = CliRunner().invoke(cli, ["history", "--out-dir", out, "--feature", "tool_use", "--provider", FIRST])
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert lines[0] == f"tool_use × {FIRST}: 3 run(s), newest first"
    assert lines[1].split()[:6] == ["GENERATED", "(UTC)", "LITELLM", "CLAUDE", "CODE", "STATUS"]
    assert "1.108.4" in lines[2] and "fail (gateway)" in lines[2] and "haiku=pass sonnet=fail opus=pass" in lines[2]
    assert lines[3].strip() == "bisect: broke in LiteLLM 1.108.4 (last good: 1.108.3)"
    assert "1.107.0" in lines[4] and "run-2 (not published)" in lines[4]
    assert "1.106.2" in lines[5]

    done = CliRunner().invoke(cli, ["history", "--out-dir", out, "--feature", "tool_use", "--provider", FIRST,
                                    "--json", "--limit", "2"])
    data = json.loads(done.output)
    assert data["feature"] == "tool_use" and [r["run_id"] for r in data["runs"]] == ["run-3", "run-2"]
    assert data["runs"][0]["tiers"]["sonnet"] == "fail" and data["runs"][0]["bisect"]["outcome"] == "found"
    assert data["runs"][0]["litellm_version"] == "1.108.4" and data["runs"][0]["claude_code_version"] == "2.1.197"


def test_history_command_wants_both_feature_and_provider(tmp_path):
    done = CliRunner().invoke(cli, ["history", "--out-dir", str(tmp_path), "--feature", "tool_use"])
    assert done.exit_code == 2 and "go together" in done.output
    done = CliRunner().invoke(cli, ["history", "--out-dir", str(tmp_path), "--feature", "x", "--provider", "y"])
    assert done.exit_code == 0 and "no kept run has the cell x × y" in done.output


# --- the page's timeline -------------------------------------------------------------------------------------------

def test_page_data_puts_the_current_run_first_and_stays_small(tmp_path):
    h = three_runs(tmp_path)
    current = doc(run("run-4", 3, "1.109.0", claude="2.1.200"))  # not recorded yet: the publisher records it last
    data = page_data(h.runs(), current)
    assert [r["run_id"] for r in data["runs"]] == ["run-4", "run-3", "run-2", "run-1"]
    assert data["runs"][0] == {"run_id": "run-4", "generated_at": current["generated_at"].replace("Z", "+00:00"),
                               "litellm_version": "1.109.0", "claude_code_version": "2.1.200"}
    assert data["runs"][2]["published"] is False
    items = data["cells"][f"tool_use/{FIRST}"]
    assert [i[:2] for i in items] == [[0, "pass"], [1, "fail"], [2, "pass"], [3, "pass"]]
    assert items[1][2] == {"haiku": "pass", "sonnet": "fail", "opus": "pass"}
    assert data["bisects"] == {} and "omitted_runs" not in data
    small = page_data(h.runs(), current, limit=2)
    assert [r["run_id"] for r in small["runs"]] == ["run-4", "run-3"] and small["omitted_runs"] == 2
    assert len(json.dumps(data)) < 3000  # no matrix, no evidence: runs once, then [index, status, tiers] per cell


def test_publish_embeds_every_kept_run_in_the_cell_timeline(tmp_path):
    s = settings(tmp_path)
    publish_run(run("run-1", 0, "1.106.2"), s)
    publish_run(run("run-2", 1, "1.108.4", tool_use=sonnet_red()), s)
    page = (tmp_path / "out" / "index.html").read_text()
    data = history_data(page)
    assert [r["litellm_version"] for r in data["runs"]] == ["1.108.4", "1.106.2"]
    assert [i[1] for i in data["cells"][f"tool_use/{FIRST}"]] == ["fail", "pass"]
    # the page's script renders it in the cell detail
    assert 'data-testid": "detail-timeline"' in page and "function timelineView" in page


def test_the_history_json_cannot_close_its_script(tmp_path):
    document = doc(run("run-1", 0, "1.106.2"))
    page = render_page(document, {"runs": [], "cells": {}, "bisects": {
        f"tool_use/{FIRST}": {"text": "</script><script>alert(1)</script>"}}})
    assert history_data(page)["bisects"][f"tool_use/{FIRST}"]["text"].startswith("</script>")
    assert "&lt;/script&gt;&lt;script&gt;" in page  # the noscript table shows it escaped
    assert history_data(render_page(document)) == {}


# --- a stored bisect on the page and in the regression report -------------------------------------------------------

def test_a_stored_bisect_shows_on_the_page_and_in_the_regression_report(tmp_path):
    s = settings(tmp_path)
    publish_run(run("run-1", 0, "1.106.2"), s)
    report = publish_run(run("run-2", 1, "1.108.4", tool_use=sonnet_red()), s)
    assert [c.kind for c in report.regression.changes] == ["green_to_red"]
    assert "Bisected" not in (tmp_path / "out" / "regression-report.md").read_text()

    h = History.from_settings(s)
    h.store_bisects("run-2", {f"tool_use/{FIRST}": CellBisect(
        feature="tool_use", provider=FIRST, outcome="found", axis="litellm", good="1.106.2", bad="1.108.4",
        pinned="2.1.197", tiers=["sonnet"], direction="regression", first="1.108.4", last="1.108.3", probes=5,
        releases=9, text="broke in LiteLLM 1.108.4 (last good: 1.108.3)")})
    written = refresh_outputs(s, "run-2")
    assert sorted(p.rsplit("/", 1)[1] for p in written) == ["index.html", "regression-report.md"]

    page = (tmp_path / "out" / "index.html").read_text()
    found = history_data(page)["bisects"][f"tool_use/{FIRST}"]
    assert found["text"] == "broke in LiteLLM 1.108.4 (last good: 1.108.3)" and found["probes"] == 5
    assert history_data(page)["cells"][f"tool_use/{FIRST}"][0][3] == found["text"]  # in the timeline too
    assert "<small>broke in LiteLLM 1.108.4 (last good: 1.108.3)</small>" in page  # noscript table
    assert '"data-testid": "detail-bisect"' in page and '"bisect-" + f.id + "-" + p' in page

    md = (tmp_path / "out" / "regression-report.md").read_text()
    assert "### Bisected (1)" in md
    assert f"- Tool use × {NAMES[FIRST]}: broke in LiteLLM 1.108.4 (last good: 1.108.3)" in md


def test_refresh_leaves_another_runs_outputs_alone(tmp_path):
    s = settings(tmp_path)
    publish_run(run("run-1", 0, "1.106.2"), s)
    publish_run(run("run-2", 1, "1.108.4"), s)
    assert refresh_outputs(s, "run-1") == []  # out/ holds run-2: its page is not rewritten for run-1
