import copy

import pytest
import yaml

from ccmatrix.manifest import DEFAULT_MANIFEST, ManifestError, alias_for, load_manifest, parse_manifest


@pytest.fixture()
def good():
    return yaml.safe_load(DEFAULT_MANIFEST.read_text())


def test_the_shipped_manifest_loads(good):
    manifest = parse_manifest(good)
    assert [p.id for p in manifest.providers] == ["anthropic", "bedrock_invoke", "bedrock_converse", "vertex_ai", "azure",
                                                  "bedrock_passthrough", "vertex_passthrough"]
    assert list(manifest.tiers) == ["haiku", "sonnet", "opus"]
    assert manifest.features[0].id == "basic_messaging_non_streaming"


def _broken(good, mutate):
    data = copy.deepcopy(good)
    mutate(data)
    with pytest.raises(ManifestError) as caught:
        parse_manifest(data)
    return str(caught.value)


def test_wrong_schema_version_names_the_field(good):
    message = _broken(good, lambda d: d.update(schema_version="2"))
    assert "schema_version" in message


def test_unknown_check_names_the_feature(good):
    message = _broken(good, lambda d: d["features"][0].update(check="no_such_check"))
    assert "features.0.check" in message or "features[0].check" in message
    assert "no_such_check" in message


def test_provider_missing_a_tier_model(good):
    def explicit_but_short(d):  # a column that names its own ids must name one for every tier
        d["providers"][1]["models"] = {"haiku": "us.anthropic.claude-haiku-4-5-20251001-v1:0",
                                       "sonnet": "us.anthropic.claude-sonnet-4-5-20250929-v1:0"}
    message = _broken(good, explicit_but_short)
    assert "providers[1].models" in message and "opus" in message


def test_the_shipped_manifest_follows_the_newest_releases_and_models(good):
    """Issue 13: a scheduled run tests today's releases and models; the suite's pins live in its own fixture."""
    assert good["claude_code_version"] == "latest" and good["litellm_version"] == "latest"
    assert set(good["tiers"].values()) == {"latest"}
    assert not [p["id"] for p in good["providers"] if "models" in p]


def test_unpinned_version_is_refused(good):
    message = _broken(good, lambda d: d.update(litellm_version=">=1.80"))
    assert "litellm_version" in message and "latest" in message


def test_latest_is_a_valid_version(good):
    from ccmatrix.manifest import parse_manifest

    assert parse_manifest({**good, "claude_code_version": "latest"}, "t").claude_code_version == "latest"


def test_unknown_top_level_key_is_refused(good):
    message = _broken(good, lambda d: d.update(colour="red"))
    assert "colour" in message


def test_duplicate_provider_id(good):
    message = _broken(good, lambda d: d["providers"].append(copy.deepcopy(d["providers"][0])))
    assert "duplicate" in message and "anthropic" in message


def test_not_applicable_needs_a_reason(good):
    message = _broken(good, lambda d: d["features"][0].update(not_applicable={"azure": " "}))
    assert "not_applicable" in message and "reason" in message


def test_tier_model_must_be_a_claude_id(good):
    message = _broken(good, lambda d: d["tiers"].update(haiku="gpt-4o"))
    assert "tiers" in message and "gpt-4o" in message


def test_invalid_yaml_and_missing_file(tmp_path):
    bad = tmp_path / "m.yaml"
    bad.write_text("schema_version: [unclosed")
    with pytest.raises(ManifestError, match="not valid YAML"):
        load_manifest(bad)
    with pytest.raises(ManifestError, match="cannot read"):
        load_manifest(tmp_path / "absent.yaml")


def test_selection_refuses_unknown_names(good):
    manifest = parse_manifest(good)
    with pytest.raises(ManifestError, match="unknown provider"):
        manifest.select(None, ["openai"], None)
    selection = manifest.select(None, ["azure", "anthropic"], ["opus"])
    assert selection.providers == ["anthropic", "azure"]  # manifest order, not argument order
    assert selection.tiers == ["opus"]


def test_alias_is_named_after_the_real_model():
    alias = alias_for("claude-sonnet-4-5-20250929", "bedrock_converse")
    assert alias.startswith("claude-sonnet-4-5-20250929")
    assert alias.endswith("bedrock-converse")
