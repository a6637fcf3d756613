"""Web search (server tool): the search really ran at the provider and its result reached the answer."""
from __future__ import annotations

import secrets

from ccmatrix.outcomes import TierResult
from worker.check import CheckContext, CliCheck


def _text(content) -> str:
    if isinstance(content, str):
        return content
    return " ".join(b.get("text", "") for b in content or [] if isinstance(b, dict))


SEARCHED = "the web_search server tool ran at the provider and its results reached the CLI's tool result"


class WebSearch(CliCheck):
    decisive = (SEARCHED,)
    def run(self, ctx: CheckContext) -> TierResult:
        topic = "ccmatrix gateway " + secrets.token_hex(3)
        run = ctx.run_cli(f"Search the web for: {topic}", args=["--allowedTools", "WebSearch"])
        early = ctx.classify(run)
        if early is not None:
            return early
        uses = [b for b in run.transcript.assistant_blocks("tool_use") if b.get("name") == "WebSearch"]
        if not uses:
            return ctx.failed(run, "the model never asked for a web search (no WebSearch tool_use)")
        results = [b for b in run.transcript.user_blocks("tool_result") if b.get("tool_use_id") == uses[0].get("id")]
        output = _text(results[0].get("content")) if results else ""
        if not output:
            return ctx.failed(run, "the WebSearch tool produced no result")
        if "API Error" in output or results[0].get("is_error"):
            return ctx.failed(run, f"the search request was refused: {output[:400]}")
        if ctx.sees_upstream:
            searches = [c for c in ctx.model_calls()
                        if any(t.kind.startswith("web_search") for t in ctx.upstream_requests([c])[0].tools)]
            if not searches:
                return ctx.failed(run, "no request with the web_search server tool reached the provider")
            call = searches[-1]
            if call.get("status") != 200:
                return ctx.failed(run, f"the provider refused the web search ({call.get('status')}): {call.get('error')}")
            content = (call.get("response") or {}).get("content") or []
            urls = [r.get("url") for b in content if b.get("type") == "web_search_tool_result"
                    for r in (b.get("content") or []) if isinstance(r, dict)]
            if not urls:
                return ctx.failed(run, "the provider's reply had no web_search_tool_result")
            if not any(url in output for url in urls):
                return ctx.failed(run, f"the search results ({urls[0]}) did not reach the CLI's tool result")
        elif "http" not in output:
            return ctx.failed(run, f"the WebSearch result has no links: {output[:300]}")
        # Real provider: the result's links can only come from the provider's web_search_tool_result.
        ctx.asserted(SEARCHED)
        return ctx.passed(run)


CHECK = WebSearch()
