"""The gateway registry: one package per gateway under test (beside `providers/`, moto's one-package-per-service
layout).

Everything that is true of one gateway lives in `gateways/<package>/`: which release `latest` means and how a
release is provisioned into `.cache/<gateway>/<version>/`, which provider columns it has a route for (the others are
`not_applicable`, "gateway has no route: ..."), the config it is given for the columns it supports (as its own docs
describe it for Claude Code, with the settings of a named profile from `gateway_profiles/<gateway>.yaml`), how it is
started inside the worker's sandbox and when it is ready, and how the Claude Code CLI is pointed at it (base URL,
key, headers, the model name it asks for).

    from gateways import registry
    registry.names()            -> ["litellm", "portkey", "claude-code-router"]
    registry.get("portkey")     -> the Gateway
"""
from __future__ import annotations

from gateways import registry
from gateways.base import Gateway

__all__ = ["Gateway", "registry"]
