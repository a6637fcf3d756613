import json

import pytest

from ccmatrix.matrix import to_json
from ccmatrix.cli import cli, main
from ccmatrix.publish.history import History
from ccmatrix.publish.samples import cell, matrix


def run(argv, capsys=None):
    return main(argv)


@pytest.fixture
def hist(tmp_path):
    h = History(tmp_path / "h")
    old = matrix({"basic_messaging_non_streaming": {"anthropic": cell("pass"), "bedrock_invoke": cell("pass")},
                  "streaming": {"anthropic": cell("fail", error="dropped"), "bedrock_invoke": cell("pass")}},
                 run_id="20250101-old", litellm_version="1.80.0")
    new = matrix({"basic_messaging_non_streaming": {"anthropic": cell("pass"), "bedrock_invoke": cell("fail", error="400 from bedrock")},
                  "streaming": {"anthropic": cell("pass"), "bedrock_invoke": cell("pass")}},
                 run_id="20250102-new", litellm_version="1.106.2")
    h.record(json.loads(to_json(old)))
    h.record(json.loads(to_json(new)))
    return tmp_path / "h"


def test_subcommands_registered():
    for argv in (["history"], ["diff", "a", "b"], ["publish", "f.json"]):
        command = cli.commands[argv[0]]
        assert command.make_context(argv[0], argv[1:]).params is not None


def test_history_lists_runs_with_versions_and_counts(hist, capsys):
    assert run(["history", "--history-dir", str(hist)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:4] == ["RUN", "ID", "GENERATED", "(UTC)"]
    assert out[1].split()[0] == "20250101-old" and "1.80.0" in out[1]
    new = out[2].split()
    assert new[0] == "20250102-new" and "1.106.2" in new and "2.1.197" in new
    assert new[-6:] == ["3", "1", "0", "0", "0", "yes"]  # pass fail error n/a n/t published


def test_history_json(hist, capsys):
    assert run(["history", "--history-dir", str(hist), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["run_id"] for r in rows] == ["20250101-old", "20250102-new"] and "matrix" not in rows[0]


def test_diff_names_the_changed_cells(hist, capsys):
    assert run(["diff", "--history-dir", str(hist), "20250101", "20250102"]) == 1
    out = capsys.readouterr().out
    assert "LiteLLM 1.80.0" in out and "LiteLLM 1.106.2" in out
    assert ("basic_messaging_non_streaming × bedrock_invoke: pass -> fail  [green_to_red]  cause: gateway  "
            "400 from bedrock") in out
    assert "streaming × anthropic: fail -> pass  [red_to_green]\n" in out  # a pass names no cause
    assert "    haiku: pass -> fail  (gateway)" in out
    assert "basic_messaging_non_streaming × anthropic" not in out
    assert "2 cell(s) changed" in out


def test_diff_same_run_is_empty(hist, capsys):
    assert run(["diff", "--history-dir", str(hist), "latest", "20250102-new"]) == 0
    assert "no cell changed" in capsys.readouterr().out


def test_diff_markdown_and_bad_ref(hist, capsys):
    assert run(["diff", "--history-dir", str(hist), "latest~1", "latest", "--markdown"]) == 1
    assert "### Green → red (1)" in capsys.readouterr().out
    assert run(["diff", "--history-dir", str(hist), "2025", "latest"]) == 2
    assert "ambiguous" in capsys.readouterr().err


def test_publish_file(tmp_path, capsys):
    f = tmp_path / "m.json"
    f.write_text(to_json(matrix(run_id="from-file")))
    argv = ["publish", str(f), "--out-dir", str(tmp_path / "out"), "--history-dir", str(tmp_path / "h"), "--publishers", "directory"]
    assert run(argv) == 0
    assert (tmp_path / "out" / "index.html").exists()
    assert "wrote" in capsys.readouterr().out
    f.write_text(to_json(matrix({"basic_messaging": {"anthropic": cell("fail", error="x"), "bedrock_invoke": cell("pass"),
                                                     "vertex_ai": cell("pass")},
                                 "streaming": {"anthropic": cell("pass"), "bedrock_invoke": cell("pass"), "vertex_ai": cell("pass")}},
                                run_id="second")))
    assert run(argv) == 1  # regressed


def test_publish_invalid_file_is_refused(tmp_path, capsys):
    f = tmp_path / "m.json"
    doc = json.loads(to_json(matrix()))
    doc["schema_version"] = "2"
    f.write_text(json.dumps(doc))
    assert run(["publish", str(f), "--out-dir", str(tmp_path / "out"), "--history-dir", str(tmp_path / "h")]) == 2
    assert "refused" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
