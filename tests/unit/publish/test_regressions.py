from ccmatrix.outcomes import Status
from ccmatrix.publish.regressions import compare
from ccmatrix.publish.samples import cell, matrix


def two_by_two(a_b="pass", a_v="pass", s_b="fail", s_v="error", **kw):
    return matrix(
        {
            "basic": {"anthropic": cell(a_b, error=None if a_b == "pass" else "boom"),
                      "bedrock_invoke": cell(a_v, error=None if a_v == "pass" else "boom")},
            "streaming": {"anthropic": cell(s_b, error=None if s_b == "pass" else "boom"),
                          "bedrock_invoke": cell(s_v, error=None if s_v == "pass" else "boom")},
        },
        **kw,
    )


def kinds(report):
    return {(c.feature, c.provider): c.kind for c in report.changes}


def test_no_baseline_is_clean():
    report = compare(None, two_by_two())
    assert report.status == "clean" and report.baseline_run_id is None and report.changes == []
    assert "no previously published matrix" in report.markdown()
    assert report.exit_code == 0


def test_identical_matrices_are_clean_with_no_changes():
    report = compare(two_by_two(run_id="a"), two_by_two(run_id="b"))
    assert report.status == "clean" and report.changes == []
    assert "No cell changed" in report.markdown()


def test_green_to_red_regresses():
    report = compare(two_by_two(), two_by_two(a_b="fail"))
    assert kinds(report) == {("basic", "anthropic"): "green_to_red"}
    assert report.regressed and report.exit_code == 1
    change = report.green_to_red[0]
    assert (change.before, change.after) == ("pass", "fail")
    assert [(t.tier, t.before, t.after) for t in change.tiers] == [
        ("haiku", "pass", "fail"), ("sonnet", "pass", "fail"), ("opus", "pass", "fail")]


def test_new_error_is_distinguished_from_fail():
    report = compare(two_by_two(), two_by_two(a_b="error"))
    assert kinds(report) == {("basic", "anthropic"): "new_error"}
    assert report.new_errors and not report.green_to_red and report.regressed


def test_fail_to_error_is_a_new_error_and_error_to_fail_is_a_change():
    assert kinds(compare(two_by_two(s_b="fail"), two_by_two(s_b="error"))) == {("streaming", "anthropic"): "new_error"}
    report = compare(two_by_two(s_v="error"), two_by_two(s_v="fail"))
    assert kinds(report) == {("streaming", "bedrock_invoke"): "changed"}
    assert report.status == "clean"


def test_red_to_green_is_clean():
    report = compare(two_by_two(), two_by_two(s_b="pass", s_v="pass"))
    assert kinds(report) == {("streaming", "anthropic"): "red_to_green", ("streaming", "bedrock_invoke"): "red_to_green"}
    assert report.status == "clean"
    assert len(report.red_to_green) == 2


def test_tier_level_regression_inside_a_failing_cell():
    def m(opus_status):
        tiers = cell("fail", error="x").tiers
        tiers["haiku"].status = Status.PASS
        tiers["opus"].status = Status(opus_status)
        return matrix({"basic": {"anthropic": cell("fail", error="x", tiers=tiers)}})

    report = compare(m("pass"), m("fail"))
    assert kinds(report) == {("basic", "anthropic"): "green_to_red"}
    assert [(t.tier, t.before, t.after) for t in report.changes[0].tiers] == [("opus", "pass", "fail")]


def test_added_and_removed_cells():
    old = matrix({"basic": {"anthropic": cell("pass"), "bedrock_invoke": cell("pass")}})
    new = matrix({"basic": {"anthropic": cell("pass"), "vertex_ai": cell("pass")}, "streaming": {"anthropic": cell("pass")}})
    report = compare(old, new)
    assert kinds(report) == {
        ("basic", "vertex_ai"): "added", ("streaming", "anthropic"): "added", ("basic", "bedrock_invoke"): "removed"}
    assert report.status == "clean"


def test_markdown_summary_names_cells_versions_and_escapes_tables():
    old = two_by_two(run_id="old-run", litellm_version="1.80.0")
    new = two_by_two(a_b="fail", s_v="pass", run_id="new-run")
    new.features[0].providers["anthropic"].error = "bad | pipe\nnewline"
    md = compare(old, new).markdown()
    assert md.startswith("## Compatibility matrix: ❌ regressed")
    assert "### Green → red (1)" in md and "### Red → green (1)" in md
    assert "1.80.0" in md and "1.106.2" in md and "old-run" in md and "new-run" in md
    assert "bad \\| pipe newline" in md
    row = next(line for line in md.splitlines() if line.startswith("| Basic"))
    assert row.count(" | ") == 6  # seven columns, no broken table
    assert "| gateway |" in row and "haiku: pass → fail (gateway)" in row


def test_dump_carries_status_and_counts_for_a_task_result():
    dumped = compare(two_by_two(), two_by_two(a_b="fail", s_b="pass")).model_dump(mode="json")
    assert dumped["status"] == "regressed" and dumped["regressed"] is True
    assert dumped["counts"]["green_to_red"] == 1 and dumped["counts"]["red_to_green"] == 1
    assert dumped["counts"]["new_error"] == 0
