"""PDF document input: a hand-built one-page PDF holding a random word goes in as a `document` block
(`--input-format stream-json`); the answer must contain the word, and in emulator mode the document that reached
the upstream must be byte-identical (sha256) with media type application/pdf."""
from __future__ import annotations

from ccmatrix.outcomes import TierResult
from worker.check import Check, CheckContext
from worker.checks import _media
from worker.checks.vision import judge_media

PROMPT = "What does this PDF document say? Quote its text exactly."


NAMED = "the answer names the word only the PDF's bytes hold"


class PdfInput(Check):
    decisive = (NAMED,)
    def run(self, ctx: CheckContext) -> TierResult:
        word = _media.random_word()
        data = _media.pdf(f"The code word is {word}")
        stdin = _media.user_message([_media.document_block(data), {"type": "text", "text": PROMPT}])
        run = ctx.run_cli(None, args=["--input-format", "stream-json"], stdin_data=stdin)
        early = ctx.classify(run)
        if early is not None:
            return early
        extra = {"document": {"word": word, "sha256": _media.sha256(data), "bytes": len(data)}}
        problem = self.judge(ctx, run, data, word)
        return ctx.failed(run, problem, **extra) if problem else ctx.passed(run, **extra)

    def judge(self, ctx, run, data: bytes, word: str) -> str | None:
        answer = run.result.result or ""
        if word not in answer:
            return f"the answer does not contain the PDF's word {word!r}: {answer[:200]!r}"
        ctx.asserted(NAMED)
        if ctx.supporting("the PDF reached the provider byte-identical as application/pdf"):
            return judge_media(ctx, "document", data, "application/pdf")
        return None


CHECK = PdfInput()
