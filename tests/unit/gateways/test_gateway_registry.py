"""The gateway registry and the interface every plug-in keeps (issue 17)."""
from __future__ import annotations

import pytest

from gateways import registry
from gateways.base import NO_ROUTE, Gateway
from providers import registry as providers

COLUMNS = providers.ids()


def test_the_registry_finds_the_three_plugins_in_order():
    assert registry.names() == ["litellm", "portkey", "claude-code-router"]
    assert [g.name for g in registry.all()] == registry.names()
    assert all(isinstance(registry.get(n), Gateway) for n in registry.names())


def test_an_unknown_gateway_is_a_one_line_value_error_naming_the_known_ones():
    with pytest.raises(ValueError) as error:
        registry.get("kong")
    assert str(error.value) == "unknown gateway 'kong'; known: litellm, portkey, claude-code-router"
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("name", ["litellm", "portkey", "claude-code-router"])
def test_every_plugin_declares_what_the_producer_reads(name):
    gateway = registry.get(name)
    assert gateway.display_name and gateway.package.split()[0] in ("PyPI", "npm")
    assert gateway.default_profile in gateway.profiles().names()
    assert set(gateway.routes) <= set(COLUMNS), "a route names a provider package"
    for column in COLUMNS:
        reason = gateway.no_route_reason(column)
        assert (reason is None) == (column in gateway.routes)
        if reason:
            assert reason.startswith(f"{NO_ROUTE}: ") and "\n" not in reason


def test_litellm_reaches_every_column_the_others_only_theirs():
    assert all(registry.get("litellm").no_route_reason(c) is None for c in COLUMNS)
    assert sorted(registry.get("portkey").routes) == ["anthropic", "azure", "bedrock_converse", "vertex_ai"]
    assert sorted(registry.get("claude-code-router").routes) == ["anthropic", "azure", "vertex_ai"]


def test_a_column_stays_the_api_it_names_portkey_bedrock_is_converse_not_invoke():
    portkey = registry.get("portkey")
    assert portkey.no_route_reason("bedrock_converse") is None
    assert "Converse" in portkey.no_route_reason("bedrock_invoke")


@pytest.mark.parametrize("name", ["portkey", "claude-code-router"])
def test_pass_through_columns_are_litellm_routes_only(name):
    gateway = registry.get(name)
    assert gateway.no_route_reason("bedrock_passthrough") and gateway.no_route_reason("vertex_passthrough")


def test_claude_code_router_has_no_bedrock_route():
    ccr = registry.get("claude-code-router")
    for column in ("bedrock_invoke", "bedrock_converse"):
        assert ccr.no_route_reason(column) == "gateway has no route: claude-code-router has no Bedrock provider"


def test_the_worker_accepts_exactly_the_client_variables_the_plugins_declare():
    from worker.driver import CLIENT_ENV, GATEWAY_KEY_ENV, build_env

    for gateway in registry.all():
        assert gateway.client_env_vars <= CLIENT_ENV
    env = build_env("http://gw", "k", __import__("pathlib").Path("/tmp"), 10, 0,
                    client={"ANTHROPIC_BASE_URL": "http://gw", "ANTHROPIC_AUTH_TOKEN": "k",
                            "ANTHROPIC_CUSTOM_HEADERS": "x-portkey-config: {}"})
    assert env["ANTHROPIC_CUSTOM_HEADERS"] == "x-portkey-config: {}"
    assert "ANTHROPIC_AUTH_TOKEN" in GATEWAY_KEY_ENV
    with pytest.raises(ValueError):  # a gateway's key variable still carries the gateway's key only
        build_env("http://gw", "k", __import__("pathlib").Path("/tmp"), 10, 0,
                  client={"ANTHROPIC_BASE_URL": "http://gw", "ANTHROPIC_AUTH_TOKEN": "provider-secret"})
