"""Tool search: a `tool_search_tool_regex` tool with deferred tools is accepted by the provider, with the beta
that provider needs, and the tool definitions reach it."""
from __future__ import annotations

from ccmatrix.outcomes import Evidence, TierResult
from worker.check import Check, CheckContext
from worker.checks._direct import post

BETA = "advanced-tool-use-2025-11-20"  # the client's (Anthropic's) name; gateways map it per provider
DEFERRED = ["get_weather", "get_stock_price", "send_email"]


def _tool(name: str) -> dict:
    return {"name": name, "description": f"{name.replace('_', ' ')} for the user.", "defer_loading": True,
            "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}}


REACHED = "the tool_search tool and the deferred tools, still deferred, reached the provider"


def searched_and_found(content: list[dict]) -> tuple[bool, bool, bool]:
    """(a tool search ran at the provider, it found a deferred tool, a deferred tool was used) from the reply.

    The Messages API answers a tool search with a `server_tool_use` block (name `tool_search_tool_regex`) and a
    `tool_search_tool_result` block whose content lists `tool_reference`s (anthropic SDK types:
    ServerToolUseBlock, ToolSearchToolResultBlock, ToolReferenceBlock)."""
    ran = any(b.get("type") == "server_tool_use" and str(b.get("name", "")).startswith("tool_search")
              for b in content) and any(b.get("type") == "tool_search_tool_result" for b in content)
    found = False
    for block in content:
        if block.get("type") != "tool_search_tool_result":
            continue
        inner = block.get("content") or {}
        refs = inner.get("tool_references") if isinstance(inner, dict) else None
        found = found or any(isinstance(r, dict) and r.get("tool_name") in DEFERRED for r in refs or [])
    used = any(b.get("type") == "tool_use" and b.get("name") in DEFERRED for b in content)
    return ran, found, used


class ToolSearch(Check):
    decisive = (REACHED,)

    def run(self, ctx: CheckContext) -> TierResult:
        body = {"model": ctx.model, "max_tokens": 256,
                "messages": [{"role": "user", "content": "What is the weather in Lisbon? Find the right tool."}],
                "tools": [{"type": "tool_search_tool_regex_20251119", "name": "tool_search_tool_regex"},
                          *[_tool(n) for n in DEFERRED]]}
        response, duration, early = post(ctx, "/v1/messages", body, betas=[BETA])
        if early:
            return early
        content = response.json().get("content") or []

        def fail(message: str) -> TierResult:
            return TierResult.failed(message, duration_ms=duration, evidence=Evidence(
                assertion=message, upstream_calls=ctx.calls(), findings=ctx.findings(),
                result_text=response.text[:600]))

        if not content:
            return fail("the reply has no content")
        if ctx.sees_upstream:
            calls = ctx.model_calls()
            if not calls:
                return fail("no request reached the provider")
            request = ctx.upstream_requests(calls[-1:])[0]
            kinds = {t.kind for t in request.tools}
            if not any(k.startswith("tool_search_tool_regex") for k in kinds):
                return fail(f"the tool_search tool did not reach the provider (tools: {sorted(kinds)})")
            names = {t.name for t in request.tools}
            missing = [n for n in DEFERRED if n not in names]
            if missing:
                return fail(f"deferred tools lost on the way: {missing}")
            lost_defer = [t.name for t in request.tools if t.name in DEFERRED
                          and not (t.extra or {}).get("defer_loading")]
            if lost_defer:
                return fail(f"defer_loading was dropped from {lost_defer}: every tool is loaded up front")
            ctx.asserted(REACHED)
        else:
            # Real provider: the reply itself must show the provider ran the search and found the deferred tool.
            ran, found, used = searched_and_found(content)
            if used and not ran:
                return fail("a deferred tool was used without a tool search: the gateway loaded every tool up front "
                            "(defer_loading or the tool_search tool lost)")
            if ran and found:
                ctx.asserted(REACHED)
        return TierResult.passed(duration_ms=duration, evidence=Evidence(
            result_text=response.text[:600], upstream_calls=ctx.calls(), findings=ctx.findings()))


CHECK = ToolSearch()
