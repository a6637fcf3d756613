"""Profile rules applied to a universal request (what the schemas do not say)."""
from __future__ import annotations

from providers import registry
from providers._wire.universal import UniversalRequest

from . import catalog, profiles, tokens
from .errors import gap, invalid

# What a request that names no max_tokens gets (Converse's inferenceConfig is optional).
DEFAULT_MAX_TOKENS = 4096


def check_betas(provider: str, betas: list[str]) -> None:
    """Betas outside the provider's profile are refused like the provider does. A beta some profile or the
    anthropic SDK knows is a refusal (this provider does not take it); one the emulator has never heard of is a
    gap (it may be newer than the emulator's data) — answered the same way."""
    accepted = set(profiles.load(provider).get("betas_accepted", []))
    bad = [b for b in betas if b not in accepted]
    if bad:
        # the profile's own message (`beta_error`), else the Anthropic API's
        message = profiles.load(provider).get("beta_error") or (
            "Unexpected value(s) " + ", ".join(f"`{b}`" for b in bad) + " for the `anthropic-beta` header. Please "
            "consult our documentation at docs.claude.com or try again without the header.")
        known = [b for b in bad if catalog.known_beta(b)]
        if known:
            raise invalid(message, reason=f"{message} (not accepted on {provider}: {', '.join(known)})")
        raise gap(message, f"anthropic-beta {', '.join(bad)} is in no provider profile and not among the "
                           "anthropic SDK's betas (AnthropicBetaParam)")


def check_top_level(provider: str, body: dict) -> None:
    for key in profiles.load(provider).get("top_level_refused", []):
        if key in body:
            raise invalid(f"{key}: Extra inputs are not permitted")


def features(provider: str, model: str) -> dict:
    """The model's feature flags. On the Anthropic API surface (anthropic, azure) the body's model id is judged
    here (catalog.judge: known? offered here? in this provider's id shape?); Bedrock and Vertex judge the id of
    their URL in the dialect and pass the Claude API name."""
    if registry.get(provider).model_id_shape == "api":
        catalog.require(catalog.judge(provider, model), "not_found_error", f"model: {model}", 404)
    f = profiles.model_features(provider, model)
    if f is None:
        raise gap(f"model: {model}", f"no feature profile (providers/{provider}/profile.yaml models) matches {model}",
                  kind="not_found_error", status=404)
    return f


def check_request(provider: str, model: str, req: UniversalRequest) -> dict:
    """Model-dependent rules for `model` (the Claude API name) on `provider`; returns the model's feature flags."""
    prof = profiles.load(provider)
    feat = features(provider, model)
    accepted_tools = set(prof.get("tool_types_accepted", ["custom"]))
    for i, t in enumerate(req.tools):
        ttype = t.kind
        if ttype not in accepted_tools:
            message = prof.get("tool_error", "tools.{i}: Input tag '{t}' found using 'type' does not match any of "
                               "the expected tags").format(i=i, t=ttype)
            if not catalog.known_tool_type(ttype):   # the schema took it, yet no provider profile lists it
                raise gap(message, f"tool type {ttype} is in no provider profile (tool_types_accepted)")
            raise invalid(message)
        need = prof.get("tool_types_need_beta", {}).get(ttype)
        if need and need not in req.betas:
            raise invalid(f"tools.{i}: Input tag '{ttype}' found using 'type' does not match any of the expected tags"
                          f" (requires the {need} beta)")
    reasoning = req.reasoning
    if reasoning and reasoning.mode == "adaptive" and not feat.get("adaptive_thinking"):
        raise invalid("adaptive thinking is not supported on this model")
    if reasoning and reasoning.mode == "enabled":
        budget = reasoning.budget_tokens or 0
        if budget < 1024:
            raise invalid("thinking.enabled.budget_tokens: Input should be greater than or equal to 1024")
        max_tokens = req.sampling.max_tokens if req.sampling.max_tokens is not None else DEFAULT_MAX_TOKENS
        if budget >= max_tokens:
            raise invalid("`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our "
                          "documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
                          "#max-tokens-and-context-window-size")
    if reasoning and reasoning.effort and not feat.get("effort"):
        raise invalid("output_config.effort: This model does not support the effort parameter.")
    if req.context_management is not None and not feat.get("context_management"):
        raise invalid("context_management: Extra inputs are not permitted")
    for ttl in cache_ttls(req):
        if ttl == "1h" and not feat.get("ttl_1h"):
            raise invalid("cache_control.ttl: 1h is not supported for this model")
    limit = 1_000_000 if (feat.get("context_1m") and "context-1m-2025-08-07" in req.betas) else feat.get("max_context", 200000)
    n = tokens.count(req)
    if n > limit:
        raise invalid(f"prompt is too long: {n} tokens > {limit} maximum")
    return feat


def cache_ttls(req: UniversalRequest) -> list[str]:
    return [marker.ttl for _, marker in tokens.units(req) if marker]
