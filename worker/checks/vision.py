"""Vision: the CLI reads a PNG with its Read tool, the image goes back to the model inside the tool_result
(a two-turn round), and the answer names what only the decoded bytes tell: the colour and the exact size.
In emulator mode the image that reached the upstream must be byte-identical (sha256) to the file."""
from __future__ import annotations

import re
import secrets

from ccmatrix.outcomes import TierResult
from worker.check import Check, CheckContext
from worker.checks import _media

PROMPT = "Read the image file `{name}` and describe it: tell me its colour and its size in pixels."


def names_image(answer: str, colour: str, width: int, height: int) -> str | None:
    """None when the answer names the colour and the WxH size, else what is missing."""
    missing = []
    if not re.search(rf"\b{re.escape(colour)}\b", answer, re.I):
        missing.append(f"the colour {colour!r}")
    if not re.search(rf"\b{width}\s*(?:x|×|by)\s*{height}\b", answer, re.I):
        missing.append(f"the size {width}x{height}")
    return " and ".join(missing) or None


def judge_media(ctx: CheckContext, kind: str, data: bytes, media_type: str) -> str | None:
    """The media part reached the upstream once per call that needs it, with identical bytes and media type."""
    parts = _media.media_parts(ctx.upstream_requests(), kind)
    if not parts:
        return f"no {kind} block reached the upstream"
    want = _media.sha256(data)
    if not any(p.sha256 == want for p in parts):
        got = sorted({(p.sha256 or "?")[:12] for p in parts})
        return f"the {kind} bytes changed on the way: upstream sha256 {got}, sent {want[:12]}"
    if not any(p.media_type == media_type for p in parts if p.sha256 == want):
        types = sorted({p.media_type or "?" for p in parts})
        return f"the {kind} reached the upstream as {types}, not {media_type}"
    return None


NAMED = "the model read the image and the answer names its colour and exact size"


class Vision(Check):
    decisive = (NAMED,)
    def run(self, ctx: CheckContext) -> TierResult:
        data, colour, width, height = _media.random_png()
        name = f"shot_{secrets.token_hex(3)}.png"
        run = ctx.run_cli(PROMPT.format(name=name), args=["--allowedTools", "Read"], files={name: data})
        early = ctx.classify(run)
        if early is not None:
            return early
        extra = {"image": {"colour": colour, "width": width, "height": height, "sha256": _media.sha256(data)}}
        problem = self.judge(ctx, run, data, colour, width, height)
        return ctx.failed(run, problem, **extra) if problem else ctx.passed(run, **extra)

    def judge(self, ctx, run, data, colour, width, height) -> str | None:
        reads = [b for b in run.transcript.assistant_blocks("tool_use") if b.get("name") == "Read"]
        if not reads:
            return "the model never asked to Read the image (no Read tool_use reached the CLI)"
        answer = run.result.result or ""
        missing = names_image(answer, colour, width, height)
        if missing:
            return f"the answer does not name {missing} of the image: {answer[:200]!r}"
        ctx.asserted(NAMED)
        if ctx.supporting("the image reached the provider byte-identical as image/png"):
            return judge_media(ctx, "image", data, "image/png")
        return None


CHECK = Vision()
