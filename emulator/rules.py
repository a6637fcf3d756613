"""Profile and model rules applied to a request (what the schemas do not say): the provider's profile
(providers/<id>/profile.yaml: betas, tool types, refused keys) and the model catalogue (emulator/catalog.yaml:
thinking modes, effort levels, context window, ... of each model on each platform). One code path for every
provider: the dialects call these with the Claude API name of the model."""
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
    """A Messages body (`model` = the Claude API name, or the client's id on the Anthropic API surface) before the
    codec reads it: keys the provider refuses, and `thinking.type: disabled` where the model refuses it (the
    universal form drops `disabled`, it is the default, so it is judged here, on the body)."""
    for key in profiles.load(provider).get("top_level_refused", []):
        if key in body:
            raise invalid(f"{key}: Extra inputs are not permitted")
    thinking = body.get("thinking")
    if isinstance(thinking, dict) and thinking.get("type") == "disabled" and isinstance(body.get("model"), str):
        oc = body.get("output_config")
        check_thinking_disabled(provider, body["model"], oc.get("effort") if isinstance(oc, dict) else None)


EFFORT_ORDER = ("low", "medium", "high", "xhigh", "max")


def _thinking_message(mode: str) -> str:
    # the API's own words (catalog.yaml sources opus55_whats_new, enabled_refused_opus47)
    return (f'"thinking.type.{mode}" is not supported for this model. Use "thinking.type.adaptive" and '
            '"output_config.effort" to control thinking behavior.')


def check_thinking_disabled(provider: str, model: str, effort: str | None) -> None:
    """`thinking: {type: disabled}` on a model that refuses it (catalog.yaml `thinking_disabled`: refused, or
    accepted only up to an effort level). A model without a profile is judged later (features: a gap)."""
    feat = profiles.model_features(provider, model)
    rule = (feat or {}).get("thinking_disabled", "accepted")
    if rule == "refused":
        raise invalid(_thinking_message("disabled"), reason=f"{_thinking_message('disabled')} ({model} on "
                                                            f"{provider}: catalog.yaml thinking_disabled refused)")
    if isinstance(rule, dict) and effort in EFFORT_ORDER and \
            EFFORT_ORDER.index(effort) > EFFORT_ORDER.index(rule["max_effort"]):
        message = (f'"thinking.type.disabled" is not supported with output_config.effort "{effort}" for this '
                   f'model (thinking can be disabled at effort "{rule["max_effort"]}" or lower).')
        raise invalid(message)


def features(provider: str, model: str) -> dict:
    """The model's feature flags. On the Anthropic API surface (anthropic, azure) the body's model id is judged
    here (catalog.judge: known? offered here? in this provider's id shape?); Bedrock and Vertex judge the id of
    their URL in the dialect and pass the Claude API name."""
    if registry.get(provider).model_id_shape == "api":
        catalog.require(catalog.judge(provider, model), "not_found_error", f"model: {model}", 404)
    f = profiles.model_features(provider, model)
    if f is None:
        raise gap(f"model: {model}", f"{model} has no feature profile in the model catalogue (emulator/catalog.yaml)",
                  kind="not_found_error", status=404)
    return f


def check_request(provider: str, model: str, req: UniversalRequest) -> dict:
    """Model-dependent rules for `model` (the Claude API name) on `provider`; returns the model's feature flags."""
    prof = profiles.load(provider)
    feat = features(provider, model)
    accepted_tools = set(prof.get("tool_types_accepted", ["custom"]))
    for i, t in enumerate(req.tools):
        ttype = t.kind
        if ttype in feat.get("tool_types_refused", []):   # this model on this platform (catalog.yaml platform)
            raise invalid(f"tools.{i}: Input tag '{ttype}' found using 'type' is not supported for this model")
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
    mode = reasoning.mode if reasoning else None
    if mode and mode not in feat["thinking"]:
        if feat["adaptive_thinking"] or not feat["thinking"]:
            message = _thinking_message(mode) if feat["thinking"] else \
                f'"thinking.type.{mode}" is not supported for this model.'
        else:   # Bedrock's words for `adaptive` on Sonnet 4.5 (catalog.yaml source adaptive_refused_old)
            tags = ", ".join(f"'{m}'" for m in sorted(["disabled", *feat["thinking"]]))
            message = f"thinking: Input tag '{mode}' found using 'type' does not match any of the expected tags: {tags}"
        raise invalid(message, reason=f"{message} ({model} on {provider} accepts thinking "
                                      f"{', '.join(feat['thinking']) or 'none'}: catalog.yaml)")
    if mode == "enabled":
        budget = reasoning.budget_tokens or 0
        if budget < 1024:
            raise invalid("thinking.enabled.budget_tokens: Input should be greater than or equal to 1024")
        max_tokens = req.sampling.max_tokens if req.sampling.max_tokens is not None else DEFAULT_MAX_TOKENS
        if budget >= max_tokens:
            raise invalid("`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our "
                          "documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
                          "#max-tokens-and-context-window-size")
    effort = reasoning.effort if reasoning else None
    if effort and not feat["efforts"]:
        raise invalid("output_config.effort: This model does not support the effort parameter.")
    if effort and effort not in feat["efforts"]:
        levels = [f"'{e}'" for e in feat["efforts"]]
        message = f"output_config.effort: Input should be {', '.join(levels[:-1])} or {levels[-1]}"
        raise invalid(message, reason=f"{message} ({model} offers effort {', '.join(feat['efforts'])}: catalog.yaml)")
    if req.tool_choice is not None and req.tool_choice.mode in ("any", "tool") and \
            feat.get("forced_tool_choice") == "refused":
        raise invalid("tool_choice: forced tool use is not supported for this model; use tool_choice "
                      "{\"type\": \"auto\"} (catalog.yaml forced_tool_choice)")
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
