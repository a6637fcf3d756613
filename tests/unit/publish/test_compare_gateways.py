"""`ccmatrix compare-gateways`: the README section "Which gateway keeps which feature", from a published run's index
(fixture matrices of three gateways, published by the real directory publisher)."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from ccmatrix.cli import cli
from ccmatrix.publish import publish_gateways
from ccmatrix.publish.gateway_comparison import END, START, CompareError, keeps_section, load_run
from ccmatrix.publish.samples import NAMES, SECOND, gateways_run
from ccmatrix.settings import Settings

WHEN = datetime(2026, 11, 29, 18, 30, tzinfo=timezone.utc)


@pytest.fixture
def published(tmp_path):
    settings = Settings(out_dir=tmp_path / "out", history_dir=tmp_path / "history", cache_dir=tmp_path / "cache",
                        publishers="directory")
    assert publish_gateways(gateways_run(run_id="run-3gw", generated_at=WHEN), settings).published
    return tmp_path / "out" / "compatibility-matrix.index.json"


def _rows(section: str) -> dict[str, list[str]]:
    table = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| Feature")]
    return {cells[0]: cells[1:] for cells in ([c.strip() for c in line.strip("|").split(" | ")] for line in table)}


def test_the_section_says_per_feature_and_gateway_which_columns_pass(published):
    section = keeps_section(*load_run(published))
    assert section.startswith(START + "\n## Which gateway keeps which feature") and section.rstrip().endswith(END)
    assert "run `run-3gw` of 2026-11-29 18:30 UTC" in section
    assert ("LiteLLM 1.106.2 (profile `recommended`), Portkey 1.15.2 (profile `defaults`), claude-code-router 2.0.0 "
            "(profile `defaults`)") in section
    assert "| Feature | LiteLLM 1.106.2 | Portkey 1.15.2 | claude-code-router 2.0.0 |" in section
    rows = _rows(section)
    second = NAMES[SECOND]
    assert rows["Basic messaging"] == ["✅ 2/2", "✅ 2/2", f"✅ 1/1 — n/a: {second}"]
    assert rows["Tool use"][0] == "✅ 2/2"
    assert rows["Tool use"][1] == f"❌ 1/2 — fails: {second}"
    assert rows["Tool use"][2].startswith("⚠️ 0/1 — error: ")  # an error is never counted as a pass


def test_the_section_follows_the_matrices_not_a_fixed_text(published):
    portkey = published.parent / "compatibility-matrix-portkey.json"
    document = json.loads(portkey.read_text())
    for row in document["features"]:
        for cell in row["providers"].values():
            cell["status"], cell["error"] = "pass", None
    portkey.write_text(json.dumps(document))
    assert _rows(keeps_section(*load_run(published)))["Tool use"][1] == "✅ 2/2"


def test_a_broken_run_is_refused_in_one_line(published, tmp_path):
    with pytest.raises(CompareError, match="cannot read the gateways' index"):
        load_run(tmp_path / "absent.json")
    (published.parent / "compatibility-matrix-portkey.json").write_text('{"schema_version": "1"}')
    result = CliRunner().invoke(cli, ["compare-gateways", "--index", str(published)])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and result.output.startswith("refused: portkey's matrix")


def test_the_command_writes_between_the_markers_and_keeps_the_rest(published, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nintro\n\n{START}\nold text\n{END}\n\n## After\n")
    result = CliRunner().invoke(cli, ["compare-gateways", "--index", str(published), "--readme", str(readme)])
    assert result.exit_code == 0, result.output
    text = readme.read_text()
    assert text.startswith("# Title\n\nintro\n\n" + START) and text.endswith(END + "\n\n## After\n")
    assert "old text" not in text and text.count(START) == 1 and "| Tool use |" in text
    printed = CliRunner().invoke(cli, ["compare-gateways", "--index", str(published)])
    assert printed.exit_code == 0 and printed.output in text
