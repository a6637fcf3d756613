"""Planning several gateways in one run (issue 17): --gateway specs, one job per (gateway, feature, provider), the
columns a gateway has no route to planned as not_applicable with the plug-in's reason, never enqueued.
(stand-in plug-ins: tests/gateway_standins.py)."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from ccmatrix.cli import cli
from producer.gateway_selection import GatewaySpec, litellm_request, parse_specs
from producer.plan import RunOptions, plan_run
from tests.gateway_standins import plugins  # noqa: F401 (a fixture)


# --- --gateway specs ---------------------------------------------------------------------------------------------


def test_specs_parse_in_the_order_given_and_default_to_litellm():
    assert parse_specs(None) == [GatewaySpec(name="litellm")]
    assert parse_specs(["litellm", "Portkey@1.15.2", "claude-code-router@latest"]) == [
        GatewaySpec(name="litellm"), GatewaySpec(name="portkey", version="1.15.2"),
        GatewaySpec(name="claude-code-router", version="latest")]
    assert [s.version for s in parse_specs(["a@2.0.0-beta.1", "b@1.80.13rc1", "c@3"])] == ["2.0.0-beta.1", "1.80.13rc1", "3"]


@pytest.mark.parametrize("raw, says", [
    (["portkey@"], "empty"),
    (["@1.2"], "expected NAME[@VERSION]"),
    (["portkey@1.2; rm -rf /"], "is not a version"),
    (["portkey@1@2"], "is not a version"),
    (["portkey@1.2.3.4.5"], "is not a version"),
    (["portkey", "portkey@1.0.0"], "twice"),
])
def test_a_malformed_spec_is_one_line(raw, says):
    with pytest.raises(ValueError) as error:
        parse_specs(raw)
    assert says in str(error.value) and "\n" not in str(error.value)


def test_litellm_at_a_version_is_the_litellm_version_option():
    specs = parse_specs(["litellm@1.93.0", "portkey"])
    assert litellm_request(specs, None) == "1.93.0"
    assert litellm_request(specs, "1.93.0") == "1.93.0"
    assert litellm_request(parse_specs(["portkey"]), "1.93.0") == "1.93.0"
    with pytest.raises(ValueError, match="disagree"):
        litellm_request(specs, "1.106.2")


# --- the plan ------------------------------------------------------------------------------------------------------


def test_one_job_per_gateway_and_cell_and_no_route_cells_are_planned_not_applicable(plugins):
    plan = plan_run(RunOptions(features=["tool_use", "vision"], providers=["anthropic", "bedrock_invoke"],
                               tiers=["haiku", "sonnet"], gateways=["litellm", "portkey@1.15.2"]))
    enqueued = sorted((j.gateway, j.feature, j.provider) for j in plan.jobs)
    assert enqueued == [("litellm", "tool_use", "anthropic"), ("litellm", "tool_use", "bedrock_invoke"),
                        ("litellm", "vision", "anthropic"), ("litellm", "vision", "bedrock_invoke"),
                        ("portkey", "tool_use", "anthropic"), ("portkey", "vision", "anthropic")]
    assert len({j.task_id for j in plan.jobs}) == len(plan.jobs)  # one chord, no two jobs sharing a task id
    portkey = [j for j in plan.jobs if j.gateway == "portkey"]
    assert {j.gateway_release for j in portkey} == {"1.15.2"} and {j.gateway_profile for j in portkey} == {"portkey-default"}
    litellm = [j for j in plan.jobs if j.gateway == "litellm"]
    assert {j.gateway_version for j in litellm} == {None}  # LiteLLM keeps the LiteLLM-only contract
    assert {j.gateway_release for j in litellm} == {plan.litellm_version}
    # the unreachable column: not enqueued, planned as not_applicable on every tier with the plug-in's reason
    assert sorted((c["feature"], c["provider"]) for c in plan.no_route) == [("tool_use", "bedrock_invoke"),
                                                                           ("vision", "bedrock_invoke")]
    for cell in plan.no_route:
        assert cell["gateway"] == "portkey" and cell["gateway_version"] == "1.15.2"
        assert cell["status"] == "not_applicable" and set(cell["tiers"]) == {"haiku", "sonnet"}
        assert cell["reason"] == "gateway has no route: no bedrock_invoke route in its provider list"
        assert all(t["status"] == "not_applicable" for t in cell["tiers"].values())
    assert [(g["name"], g["version"], g["profile"]) for g in plan.gateways] == [
        ("litellm", plan.litellm_version, plan.gateway_profile["name"]), ("portkey", "1.15.2", "portkey-default")]


def test_latest_is_resolved_once_by_the_plug_in_when_planning(plugins):
    plan = plan_run(RunOptions(features=["tool_use"], providers=["anthropic"], gateways=["portkey@latest"],
                               offline=True))
    assert plugins["portkey"].asked == [("latest", True)]
    assert {j.gateway_version for j in plan.jobs} == {"9.9.9"}
    assert plan.gateways == [{"name": "portkey", "display_name": "Portkey", "version": "9.9.9", "requested": "latest",
                              "profile": "portkey-default"}]


def test_a_gateway_named_without_a_version_uses_its_default(plugins):
    plugins["portkey"].default_version = "1.15.2"
    plan = plan_run(RunOptions(features=["tool_use"], providers=["anthropic"], gateways=["portkey"]))
    assert plugins["portkey"].asked == [("1.15.2", False)] and plan.gateways[0]["version"] == "1.15.2"


def test_unknown_gateways_and_unresolvable_versions_are_refused_before_planning(plugins):
    with pytest.raises(ValueError, match="unknown gateway 'kong'"):
        plan_run(RunOptions(features=["tool_use"], gateways=["litellm", "kong"]))
    with pytest.raises(ValueError, match=r"--gateway portkey@0.1.0: portkey 0.1.0 is not published"):
        plan_run(RunOptions(features=["tool_use"], gateways=["portkey@0.1.0"]))


def test_the_cli_refuses_a_bad_gateway_in_one_line_and_starts_nothing(plugins, monkeypatch):
    def forbidden(*_, **__):
        raise AssertionError("started something after a refusal")

    for target in ("ccmatrix.provision.ensure_claude", "ccmatrix.local_stack.LocalStack", "producer.submit.submit"):
        monkeypatch.setattr(target, forbidden)
    for argv in (["run", "--gateway", "litellm,kong"], ["run", "--gateway", "portkey@not-a-version!"],
                 ["run", "--gateway", "litellm@1.93.0", "--litellm-version", "1.106.2"]):
        result = CliRunner().invoke(cli, argv)
        assert result.exit_code == 2, (argv, result.output)
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("refused: "), (argv, result.output)


def test_the_real_plug_ins_plan_only_the_columns_they_have_a_route_to():
    """gateways/: Portkey's Bedrock route is Converse (no Invoke column), claude-code-router has no Bedrock route; every
    column they lack is n/a with the plug-in's own reason, and LiteLLM reaches them all."""
    from gateways import registry

    providers = ["anthropic", "bedrock_invoke", "bedrock_converse"]
    plan = plan_run(RunOptions(features=["tool_use"], providers=providers, tiers=["haiku"],
                               gateways=["litellm", "portkey@1.15.2", "claude-code-router@2.0.0"]))
    enqueued = {(j.gateway, j.provider) for j in plan.jobs}
    not_routed = {(c["gateway"], c["provider"]): c["reason"] for c in plan.no_route}
    for name in ("litellm", "portkey", "claude-code-router"):
        gateway = registry.get(name)
        for provider in providers:
            reason = gateway.no_route_reason(provider)
            assert ((name, provider) in enqueued) is (reason is None), (name, provider)
            assert not_routed.get((name, provider)) == reason, (name, provider)
    assert ("portkey", "bedrock_invoke") in not_routed and ("portkey", "bedrock_converse") in enqueued
    assert all(reason.startswith("gateway has no route") for reason in not_routed.values())
    assert [(g["name"], g["version"]) for g in plan.gateways] == [
        ("litellm", plan.litellm_version), ("portkey", "1.15.2"), ("claude-code-router", "2.0.0")]


def test_an_unknown_gateway_is_refused_before_any_version_is_resolved(plugins, monkeypatch):
    from producer import plan as plan_module

    def no_registry(*_, **__):
        raise AssertionError("asked a registry for a run that names an unknown gateway")

    monkeypatch.setattr(plan_module, "resolve_versions", no_registry)
    with pytest.raises(ValueError, match="unknown gateway 'kong'"):
        plan_run(RunOptions(features=["tool_use"], gateways=["kong"], litellm_version="latest"))
