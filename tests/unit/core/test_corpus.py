"""The known-bug corpus: the committed cases load, and the loader refuses a case it cannot verify."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from ccmatrix.corpus import DEFAULT_CORPUS, CorpusError, load_case, load_corpus, parse_case, version_key
from ccmatrix.manifest import load_manifest


@pytest.fixture(scope="module")
def manifest():
    return load_manifest()


@pytest.fixture(scope="module")
def corpus(manifest):
    return load_corpus(manifest=manifest)


@pytest.fixture()
def good():
    return yaml.safe_load((DEFAULT_CORPUS / "vertex-prompt-caching-scope-beta.yaml").read_text())


def _refusal(data, manifest, source="case.yaml") -> str:
    with pytest.raises(CorpusError) as caught:
        parse_case(data, source, manifest)
    message = str(caught.value)
    assert "\n" not in message, "a refusal is one line"
    assert message.startswith(f"{source}: "), "a refusal names the file"
    return message


# --- the committed corpus -------------------------------------------------------------------------

def test_the_committed_corpus_loads(corpus):
    assert len(corpus) >= 15
    ids = [case.id for case in corpus]
    assert len(ids) == len(set(ids))


def test_ids_match_file_names(corpus):
    files = sorted(path.stem for path in DEFAULT_CORPUS.glob("*.yaml"))
    assert files == [case.id for case in corpus]


def test_every_case_has_a_github_reference_and_releases(corpus):
    for case in corpus:
        assert case.reference.url.startswith(f"https://github.com/{case.reference.repo}/")
        assert case.reference.url.endswith(f"/{case.reference.number}")
        assert case.buggy and case.fixed
        if not case.is_open:
            assert all(version_key(v) < version_key(case.fixed) for v in case.buggy)


def test_the_corpus_readme_lists_every_case(corpus):
    readme = (DEFAULT_CORPUS / "README.md").read_text()
    for case in corpus:
        assert f"`{case.id}`" in readme, f"corpus/README.md does not list {case.id}"
        assert case.reference.url in readme, f"corpus/README.md does not link {case.reference.url}"


# --- refusals ------------------------------------------------------------------------------------

def test_the_fixture_case_is_valid(good, manifest):
    assert parse_case(good, "case.yaml", manifest).id == "vertex-prompt-caching-scope-beta"


def test_refuses_a_case_without_a_reference(good, manifest):
    del good["reference"]
    message = _refusal(good, manifest)
    assert "reference: required" in message


@pytest.mark.parametrize("url", [
    "https://example.com/BerriAI/litellm/issues/19984",          # not github
    "http://github.com/BerriAI/litellm/issues/19984",            # not https
    "https://github.com/BerriAI/litellm/discussions/19984",      # not an issue or a pull request
    "https://github.com/BerriAI/litellm/pull/19984",             # kind is issue
    "https://github.com/BerriAI/litellm/issues/19985",           # number differs
    "https://github.com/someone/else/issues/19984",              # repo differs
    "",
])
def test_refuses_a_reference_that_is_not_a_public_github_link(good, manifest, url):
    good["reference"]["url"] = url
    message = _refusal(good, manifest)
    assert "reference" in message


def test_refuses_a_reference_without_a_number(good, manifest):
    del good["reference"]["number"]
    assert "reference.number" in _refusal(good, manifest)


def test_refuses_a_bad_link_in_also(good, manifest):
    good["also"] = [{"kind": "pr", "number": 20058, "url": "https://github.com/BerriAI/litellm/issues/20058"}]
    assert "also.0" in _refusal(good, manifest)


@pytest.mark.parametrize("mutate, field", [
    (lambda d: d.pop("buggy"), "buggy: required"),
    (lambda d: d.update(buggy=[]), "buggy"),
    (lambda d: d.pop("fixed"), "fixed: required"),
    (lambda d: d.update(fixed=""), "fixed"),
    (lambda d: d.update(fixed="soon"), "fixed"),
    (lambda d: d.update(buggy=["latest"]), "buggy"),
])
def test_refuses_a_case_without_releases(good, manifest, mutate, field):
    mutate(good)
    assert field in _refusal(good, manifest)


def test_refuses_a_fixed_release_not_later_than_a_buggy_one(good, manifest):
    good["fixed"] = "1.81.0"
    assert "fixed" in _refusal(good, manifest)


def test_open_is_a_valid_fixed_release(good, manifest):
    good["fixed"] = "open"
    assert parse_case(good, "case.yaml", manifest).is_open


def test_refuses_an_unknown_feature(good, manifest):
    good["cell"]["feature"] = "teleportation"
    message = _refusal(good, manifest)
    assert "cell.feature" in message and "teleportation" in message


def test_refuses_an_unknown_provider(good, manifest):
    good["cell"]["provider"] = "bedrock"
    assert "cell.provider" in _refusal(good, manifest)


def test_refuses_a_tier_the_feature_does_not_have(good, manifest):
    # No shipped row limits its tiers any more (long_context_1m decides by model): restrict one in a copy.
    features = [f.model_copy(update={"tiers": ["sonnet"]}) if f.id == "long_context_1m" else f
                for f in manifest.features]
    limited = manifest.model_copy(update={"features": features})
    good["cell"] = {"feature": "long_context_1m", "provider": "vertex_ai", "tiers": ["haiku"]}
    assert "cell.tiers" in _refusal(good, limited)


def test_refuses_low_confidence_without_a_note(good, manifest):
    good["confidence"] = "low"
    assert "confidence_note" in _refusal(good, manifest)


def test_refuses_unknown_fields(good, manifest):
    good["severity"] = "high"
    assert "severity" in _refusal(good, manifest)


# --- the era a case runs in (ccmatrix corpus run) ------------------------------------------------

@pytest.mark.parametrize("buggy, claude", [("1.77.7", "2.1.23"), ("1.82.9", "2.1.23"), ("1.83.0", "2.1.126"),
                                           ("1.89.3", "2.1.126"), ("1.90.0", "2.1.197"), ("1.105.2", "2.1.197")])
def test_a_case_without_versions_runs_in_its_releases_era_with_explicit_4_5_tiers(good, manifest, buggy, claude):
    from ccmatrix.corpus import ERA_MODELS

    good["claude_code"] = "unknown"
    good["buggy"], good["fixed"] = [buggy], "open"
    case = parse_case(good, "case.yaml", manifest)
    assert case.run_claude_code == claude
    assert case.run_models == ERA_MODELS == {"haiku": "claude-haiku-4-5", "sonnet": "claude-sonnet-4-5",
                                             "opus": "claude-opus-4-5"}
    assert "latest" not in case.run_models.values()


def test_a_case_runs_at_its_newest_buggy_release_in_that_releases_era(good, manifest):
    # the tightest bracket around the fix: 1.83.14 and 1.84.0 were both reported buggy before the fix in 1.85.0
    good["claude_code"] = "unknown"
    good["buggy"], good["fixed"] = ["1.82.9", "1.84.0", "1.83.14"], "1.85.0"
    case = parse_case(good, "case.yaml", manifest)
    assert case.last_buggy == "1.84.0"
    assert case.run_claude_code == "2.1.126"  # 1.84.0's era, not 1.82.9's (2.1.23)


def test_a_case_runs_at_its_own_claude_code_version_and_models(good, manifest):
    good["models"] = {"opus": "claude-opus-4-7"}
    case = parse_case(good, "case.yaml", manifest)
    assert case.run_claude_code == good["claude_code"] == "2.1.23"
    assert case.run_models["opus"] == "claude-opus-4-7" and case.run_models["haiku"] == "claude-haiku-4-5"


def test_refuses_models_of_a_tier_outside_the_cell(good, manifest):
    good["cell"] = {**good["cell"], "tiers": ["opus"]}
    good["models"] = {"sonnet": "claude-sonnet-4-6"}
    assert _refusal(good, manifest).startswith("case.yaml: models: ['sonnet'] not tiers of the cell")


def test_refuses_a_model_that_is_not_a_claude_id(good, manifest):
    good["models"] = {"opus": "latest"}
    assert _refusal(good, manifest).startswith("case.yaml: models: ")


def test_gateway_profile_is_a_known_profile(good, manifest):
    good["gateway_profile"] = "defaults"
    assert parse_case(good, "case.yaml", manifest).gateway_profile == "defaults"
    good["gateway_profile"] = "no-such-profile"
    message = _refusal(good, manifest)
    assert message.startswith("case.yaml: gateway_profile: unknown profile 'no-such-profile'")
    assert "recommended" in message


def test_committed_cases_name_only_claude_models_newer_than_the_era_when_they_need_them(corpus):
    from ccmatrix.corpus import ERA_MODELS

    for case in corpus:
        for tier, model in case.models.items():
            assert model != ERA_MODELS[tier], f"{case.id}: models.{tier} repeats the era's model"


# --- files ---------------------------------------------------------------------------------------

def _write(directory: Path, name: str, data) -> Path:
    path = directory / name
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return path


def test_refuses_an_id_that_is_not_the_file_name(tmp_path, good, manifest):
    path = _write(tmp_path, "another-name.yaml", good)
    with pytest.raises(CorpusError, match=r"^another-name\.yaml: id: "):
        load_case(path, manifest)


def test_a_directory_load_names_the_bad_file(tmp_path, good, manifest):
    _write(tmp_path, f"{good['id']}.yaml", good)
    broken = copy.deepcopy(good)
    broken["id"] = "no-reference"
    del broken["reference"]
    _write(tmp_path, "no-reference.yaml", broken)
    with pytest.raises(CorpusError, match=r"^no-reference\.yaml: reference: required"):
        load_corpus(tmp_path, manifest)


def test_refuses_a_file_that_is_not_yaml(tmp_path, manifest):
    path = tmp_path / "bad.yaml"
    path.write_text("id: [unclosed\n")
    with pytest.raises(CorpusError, match=r"^bad\.yaml: not valid YAML"):
        load_case(path, manifest)
