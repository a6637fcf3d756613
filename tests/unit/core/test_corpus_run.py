"""ccmatrix.corpus_run: the reproduced / not reproduced / not run verdict of a corpus case, on fabricated outcomes."""
from __future__ import annotations

import pytest

from ccmatrix.contract import CellOutcome
from ccmatrix.corpus import load_corpus
from ccmatrix.corpus_run import NOT_REPRODUCED, NOT_RUN, REPRODUCED, Side, judge, report, score_line
from ccmatrix.outcomes import Evidence, GatewayResponse, TierResult, UpstreamCall


@pytest.fixture(scope="module")
def corpus():
    return {case.id: case for case in load_corpus()}


@pytest.fixture
def case(corpus):
    """A closed case with two or more tiers, given match texts."""
    base = next(c for c in corpus.values() if not c.is_open and len(c.cell.tiers) >= 2)
    return base.model_copy(update={"match": ["invalid beta flag", "cache_read"]})


def outcome(case, **tiers: TierResult) -> CellOutcome:
    full = {name: tiers.get(name, TierResult.passed()) for name in case.cell.tiers}
    return CellOutcome.from_tiers(case.cell.feature, case.cell.provider, full)


def red(assertion=None, error="turn 2 failed", body=None, refusal=None) -> TierResult:
    evidence = Evidence(assertion=assertion,
                        gateway_response=GatewayResponse(status=400, body=body) if body else None,
                        upstream_calls=[UpstreamCall(method="POST", path="/x", status=400, cause="refused",
                                                     reason=refusal)] if refusal else [])
    return TierResult.failed(error, evidence=evidence)


def test_red_for_the_reason_at_buggy_and_green_at_fixed_is_reproduced(case):
    tier = case.cell.tiers[0]
    buggy = Side(case.buggy[0], outcome(case, **{tier: red(refusal="400 invalid beta flag: mcp-servers")}))
    fixed = Side(case.fixed, outcome(case))
    verdict = judge(case, buggy, fixed)
    assert verdict.verdict == REPRODUCED
    assert f"red at buggy {case.buggy[0]}" in verdict.reason and f"green at fixed {case.fixed}" in verdict.reason
    assert verdict.buggy["red_for_case"] == {tier: "invalid beta flag"}
    assert verdict.line().startswith(f"{case.id}: reproduced: ")


@pytest.mark.parametrize("where", ["assertion", "error", "body"])
def test_the_match_is_found_in_the_assertion_the_error_or_the_gateway_response(case, where):
    tier = case.cell.tiers[-1]
    kw = {"assertion": "x", "error": "y", "body": None}
    kw[where] = "turn 2: cache_read_input_tokens was 0"
    verdict = judge(case, Side("1", outcome(case, **{tier: red(**kw)})), Side("2", outcome(case)))
    assert verdict.verdict == REPRODUCED and verdict.matched_by == "match"


def test_red_for_another_reason_at_buggy_is_not_reproduced(case):
    tier = case.cell.tiers[0]
    buggy = Side("1", outcome(case, **{tier: red(assertion="tool_result delivered", error="no tool call")}))
    verdict = judge(case, buggy, Side("2", outcome(case)))
    assert verdict.verdict == NOT_REPRODUCED and "not for the case's reason" in verdict.reason


def test_green_at_buggy_is_not_reproduced(case):
    verdict = judge(case, Side("1", outcome(case)), Side("2", outcome(case)))
    assert verdict.verdict == NOT_REPRODUCED and verdict.reason == "green at buggy 1"


def test_still_red_for_the_same_reason_at_fixed_is_not_reproduced(case):
    tier = case.cell.tiers[0]
    same = red(body="invalid beta flag")
    verdict = judge(case, Side("1", outcome(case, **{tier: same})), Side("2", outcome(case, **{tier: same})))
    assert verdict.verdict == NOT_REPRODUCED and "still red for the same reason at fixed 2" in verdict.reason


def test_red_at_fixed_for_another_reason_still_counts_the_bug_as_gone(case):
    tier = case.cell.tiers[0]
    verdict = judge(case, Side("1", outcome(case, **{tier: red(body="invalid beta flag")})),
                    Side("2", outcome(case, **{tier: red(assertion="tool_result delivered")})))
    assert verdict.verdict == REPRODUCED and "red only for another reason" in verdict.reason


def test_an_error_cell_could_not_tell_at_either_side(case):
    tier = case.cell.tiers[0]
    broken = outcome(case, **{tier: TierResult.errored("proxy did not boot")})
    assert judge(case, Side("1", broken), Side("2", outcome(case))).verdict == NOT_REPRODUCED
    verdict = judge(case, Side("1", outcome(case, **{tier: red(body="invalid beta flag")})), Side("2", broken))
    assert verdict.verdict == NOT_REPRODUCED and "is error (could not tell)" in verdict.reason
    lost = judge(case, Side("1", failed="the local worker died"), Side("2", outcome(case)))
    assert lost.verdict == NOT_REPRODUCED and "the local worker died" in lost.reason


def test_a_release_that_does_not_install_is_not_run_with_its_reason(case):
    verdict = judge(case, Side("1.2.3", not_run="litellm 1.2.3 does not install: no wheel"), Side("2", outcome(case)))
    assert verdict.verdict == NOT_RUN and verdict.line() == f"{case.id}: not run: buggy 1.2.3: litellm 1.2.3 does not install: no wheel"
    tier = case.cell.tiers[0]
    fixed_missing = judge(case, Side("1", outcome(case, **{tier: red(body="invalid beta flag")})),
                          Side("9.9.9", not_run="does not install"))
    assert fixed_missing.verdict == NOT_RUN and "fixed 9.9.9: does not install" in fixed_missing.reason


def test_an_open_case_needs_only_the_buggy_release(corpus):
    open_case = next(c for c in corpus.values() if c.is_open).model_copy(update={"match": ["BedrockException"]})
    tier = open_case.cell.tiers[0]
    verdict = judge(open_case, Side("1", outcome(open_case, **{tier: red(body="400 BedrockException: web_search")})),
                    None)
    assert verdict.verdict == REPRODUCED and "fix open" in verdict.reason and verdict.fixed is None


def test_without_match_texts_any_red_tier_counts_and_the_report_says_so(case):
    bare = case.model_copy(update={"match": []})
    tier = bare.cell.tiers[0]
    verdict = judge(bare, Side("1", outcome(bare, **{tier: red(assertion="anything")})), Side("2", outcome(bare)))
    assert verdict.verdict == REPRODUCED and verdict.matched_by == "any red" and "no match text" in verdict.reason


def test_only_the_cases_tiers_count(case):
    other = outcome(case)
    other.tiers["not-a-case-tier"] = red(body="invalid beta flag")
    assert judge(case, Side("1", other), Side("2", outcome(case))).verdict == NOT_REPRODUCED


def test_score_and_report(case):
    tier = case.cell.tiers[0]
    good = judge(case, Side("1", outcome(case, **{tier: red(body="invalid beta flag")})), Side("2", outcome(case)))
    bad = judge(case, Side("1", outcome(case)), Side("2", outcome(case)))
    skipped = judge(case, Side("1", not_run="no"), Side("2", outcome(case)))
    assert score_line([good, bad, skipped]) == "corpus: 1/3 reproduced"
    document = report([good, bad, skipped], generated_at="now")
    assert document["counts"] == {"reproduced": 1, "not_reproduced": 1, "not_run": 1}
    assert document["score"] == "corpus: 1/3 reproduced" and len(document["cases"]) == 3


def test_every_case_names_its_match_texts_and_an_empty_one_is_refused(corpus):
    from ccmatrix.corpus import CorpusError, parse_case

    assert all(case.match for case in corpus.values())
    data = next(iter(corpus.values())).model_dump(mode="json", exclude_none=True)
    with pytest.raises(CorpusError, match=r"x.yaml: match: .*empty match text"):
        parse_case({**data, "match": ["ok", " "]}, "x.yaml")


# --- the cell a case runs (ccmatrix.probes.corpus_cell) ------------------------------------------------------------
def test_a_case_cell_pins_the_era_and_explicit_tier_models_never_latest(corpus, monkeypatch):
    from ccmatrix import probes

    case = next(c for c in corpus.values() if c.claude_code == "unknown" and not c.models)
    cell = probes.corpus_cell(case, "1.2.3")
    assert (cell.litellm_version, cell.claude_code_version) == ("1.2.3", case.run_claude_code)
    assert cell.tier_models == {"haiku": "claude-haiku-4-5", "sonnet": "claude-sonnet-4-5", "opus": "claude-opus-4-5"}
    assert cell.tiers == list(case.cell.tiers) and cell.gateway_profile == case.gateway_profile


def test_a_case_cell_carries_the_cases_models_and_profile(corpus, monkeypatch):
    from ccmatrix import probes

    corpus_cell = probes.corpus_cell
    case = next(c for c in corpus.values() if c.models and c.claude_code == "unknown")
    case = case.model_copy(update={"gateway_profile": "defaults"})
    cell = corpus_cell(case, "1.2.3")
    assert all(cell.tier_models[t] == m for t, m in case.models.items())
    assert cell.gateway_profile == "defaults"


def test_a_cli_without_a_model_table_gets_the_column_ids_from_the_era_table(corpus, monkeypatch, tmp_path):
    """2.1.23 embeds no model table: the cell keeps 2.1.23 and is planned with an explicit manifest (no table)."""
    import producer.plan
    from ccmatrix import probes
    from ccmatrix.corpus import ERA_CLAUDE_CODE
    from ccmatrix.model_table import ModelTableError

    case = next(c for c in corpus.values() if c.run_claude_code != ERA_CLAUDE_CODE)
    cell = probes.corpus_cell(case, "1.2.3")
    assert cell.claude_code_version == case.run_claude_code and cell.table_fallback == ERA_CLAUDE_CODE
    planned, seen = [], []

    def plan_run(options, manifest_path=None):
        planned.append((options.claude_code_version, options.tier_models, manifest_path))
        if options.tier_models:
            raise ModelTableError("no embedded model catalog found in the binary (anchor not present)")

        class Job:
            def model_copy(self, update):
                return update
        return type("Plan", (), {"jobs": [Job()]})()

    monkeypatch.setattr(producer.plan, "plan_run", plan_run)
    monkeypatch.setattr(probes, "explicit_manifest",
                        lambda models, table, path=None: seen.append((models, table)) or str(tmp_path / "m.json"))
    assert probes.plan_job(cell, "run-1") == {"run_id": "run-1"}
    assert planned == [(case.run_claude_code, case.run_models, None),
                       (case.run_claude_code, None, str(tmp_path / "m.json"))]
    assert seen == [(case.run_models, ERA_CLAUDE_CODE)]


# --- what the corpus' Vertex cases need installed (ccmatrix.provision.extra_requirements) ---------------------------
@pytest.mark.parametrize("version, wanted", [("1.77.7", True), ("1.79.3", True), ("1.83.10", True), ("1.92.9", True),
                                             ("1.76.0", False), ("1.93.0", False), ("1.108.7", False)])
def test_vertex_dependencies_are_added_for_the_releases_that_import_them(version, wanted):
    from ccmatrix.provision import VERTEX_EXTRAS, extra_requirements

    assert extra_requirements(version) == (list(VERTEX_EXTRAS) if wanted else [])


@pytest.mark.parametrize("version, wanted", [("1.95.0", True), ("1.97.0", True), ("1.96.2", True), ("1.94.3", False),
                                             ("1.98.0", False), ("1.108.7", False)])
def test_releases_that_import_fastapis_removed_helper_get_the_fastapi_of_their_day(version, wanted):
    from ccmatrix.provision import FASTAPI_WITH_FLAT_DEPENDANT, extra_requirements

    assert extra_requirements(version) == (list(FASTAPI_WITH_FLAT_DEPENDANT) if wanted else [])


def test_a_local_source_gets_no_extra_requirements():
    from ccmatrix.provision import extra_requirements

    assert extra_requirements("/src/litellm#sha256=" + "0" * 64) == []


def test_a_venv_whose_scripts_name_a_missing_interpreter_is_not_runnable(tmp_path):
    """A LiteLLM venv created through a path that is gone (a second checkout's .cache symlink, removed) keeps its
    marker and its scripts, but exec fails with "No such file or directory": provisioning must rebuild it."""
    from ccmatrix.provision import runnable_script

    good, bad, plain = tmp_path / "good", tmp_path / "bad", tmp_path / "plain"
    good.write_text("#!/bin/sh\n")
    bad.write_text(f"#!{tmp_path}/gone/bin/python3.11\n# -*- coding: utf-8 -*-\n")
    plain.write_text("echo hi\n")
    assert runnable_script(good) and runnable_script(plain)
    assert not runnable_script(bad) and not runnable_script(tmp_path / "missing")


def test_the_venv_path_is_the_resolved_cache_path(tmp_path):
    from ccmatrix.provision import litellm_venv

    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    assert litellm_venv(tmp_path / "link", "1.2.3") == real / "litellm" / "1.2.3"
