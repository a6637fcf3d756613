"""Basic messaging (non-streaming): the exact answer arrives, and the upstream saw a non-streaming call.

Claude Code always streams, so the CLI turn checks the answer through the gateway, and a direct
`stream: false` request to the proxy's /v1/messages proves the non-streaming path end to end.
"""
from __future__ import annotations

import secrets

from ccmatrix.outcomes import TierResult
from worker.check import CheckContext, CliCheck
from worker.driver import CliRun

from providers import registry

STREAMING_OPERATIONS = registry.streaming_operations()


def _is_streaming(capture: dict) -> bool:
    body = capture.get("body") if isinstance(capture.get("body"), dict) else {}
    return capture.get("operation") in STREAMING_OPERATIONS or bool(capture.get("stream")) or body.get("stream") is True


EXACT = "the CLI printed exactly the asked word"
DIRECT = "a direct stream:false request got a JSON reply with exactly the asked word"


class BasicMessagingNonStreaming(CliCheck):
    decisive = (EXACT, DIRECT)

    def run(self, ctx: CheckContext) -> TierResult:
        word = "PINEAPPLE" + secrets.token_hex(2).upper()
        run = ctx.run_cli(f"Reply with exactly the word: {word}")
        early = ctx.classify(run)
        if early is not None:
            return early
        answer = (run.result.result or "").strip()
        if answer.strip(" .\n\"'") != word:
            return ctx.failed(run, f"expected exactly {word!r}, the CLI printed {answer[:200]!r}")
        ctx.asserted(EXACT)
        before = len(ctx.model_calls())
        direct = self._direct(ctx, word)
        if direct is not None:
            return direct if isinstance(direct, TierResult) else ctx.failed(run, direct)
        ctx.asserted(DIRECT)
        if ctx.supporting("the stream:false request reached the provider as a non-streaming call"):
            new = ctx.model_calls()[before:]
            if not new:
                return ctx.failed(run, "the non-streaming request never reached the upstream")
            if any(_is_streaming(c) for c in new):
                return ctx.failed(run, f"a stream:false request reached the upstream as streaming: "
                                       f"{[c.get('path') for c in new]}")
        return ctx.passed(run)

    def _direct(self, ctx: CheckContext, word: str) -> str | TierResult | None:
        body = {"model": ctx.model, "max_tokens": 64, "stream": False,
                "messages": [{"role": "user", "content": f"Reply with exactly the word: {word}"}]}
        with ctx.proxy_client() as client:
            response = client.post("/v1/messages", json=body)
        if response.status_code != 200:
            from worker.classify import classify_http

            return classify_http(response.status_code, response.text, ctx.calls(), ctx.emulated)
        data = response.json()
        texts = [b.get("text", "") for b in data.get("content", []) if b.get("type") == "text"]
        if "".join(texts).strip(" .\n\"'") != word:
            return f"non-streaming answer was {texts!r}, expected {word!r}"
        return None


CHECK = BasicMessagingNonStreaming()
