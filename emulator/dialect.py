"""What a provider's emulator dialect is (providers/<id>/emulator.py declares `DIALECT`), and what every dialect
shares: its routes (Op), the per-request Call, JSON and streaming answers with the stream fault hooks.

A dialect turns a request on its routes into an answer: authenticate, decode the wire with its codec into the
universal request, ask the one scripted model (`call.state.model`), encode the Reply; it raises EmulatorError for
a refusal, which the server renders with the dialect's `error_response` and tags (emulator/server.py).
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import dataclass, field

from starlette.responses import JSONResponse, Response, StreamingResponse

from .errors import EmulatorError
from .faults import Applied
from .latency import NO_DELAY, Delay

log = logging.getLogger("emulator")

STREAM_PACE_S = 0.003


class StreamCut(Exception):
    """Raised inside a streaming body to drop the connection mid-stream (fault cut_stream_after)."""


@dataclass
class Call:
    provider: str
    operation: str
    method: str
    path: str          # decoded path
    raw_path: str      # path exactly as received (percent-encoding kept)
    query: str
    headers: object    # starlette Headers (case-insensitive)
    raw: bytes
    params: dict
    applied: Applied
    rec: dict
    state: object      # server State
    extra: dict = field(default_factory=dict)

    def json_body(self) -> dict:
        """The body as a JSON object, or a provider-neutral 400."""
        ctype = self.headers.get("content-type", "")
        if ctype and "json" not in ctype.lower():
            raise EmulatorError("invalid_request_error", f"Unsupported content type: {ctype.split(';')[0]}", 400)
        if not self.raw:
            raise EmulatorError("invalid_request_error", "Request body is empty; expected a JSON object", 400)
        try:
            body = json.loads(self.raw)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: JSON nested too deep
            raise EmulatorError("invalid_request_error", f"There was an error parsing the body: {exc}", 400)
        if not isinstance(body, dict):
            raise EmulatorError("invalid_request_error", "Request body must be a JSON object", 400)
        return body

    def done(self, status: int, response: dict | None = None, error: str | None = None, stream: bool = False) -> None:
        self.rec["status"] = status
        self.rec["stream"] = stream
        if response is not None:
            self.rec["response"] = response
        if error is not None:
            self.rec["error"] = error


def reply_delay(call: Call, summary: dict | None) -> Delay:
    """How long this model reply takes under the emulator's latency setting (emulator/latency.py); none when off or
    when the answer is not a model reply (count_tokens, errors)."""
    latency = getattr(call.state, "latency", None)
    if latency is None or latency.off or not summary or "usage" not in summary:
        return NO_DELAY
    model = next((v for v in call.params.values() if isinstance(v, str) and "claude" in v.lower()), None)
    if model is None:
        try:
            model = json.loads(call.raw).get("model")
        except (ValueError, AttributeError):
            model = None
    tokens = int((summary.get("usage") or {}).get("output_tokens") or 0)
    delay = latency.draw(call.state.latency_keys.next_key(call.state.job_id), call.provider, model, tokens)
    call.rec["latency_ms"] = {"ttft": round(delay.ttft_s * 1000, 1), "generation": round(delay.generation_s * 1000, 1)}
    return delay


def json_response(call: Call, payload: dict, status: int = 200, headers: dict | None = None,
                  summary: dict | None = None) -> Response:
    call.done(status, summary)
    call.extra["hold_s"] = reply_delay(call, summary).total_s  # the server holds the answer this long
    return JSONResponse(payload, status_code=status, headers=headers)


def stream_response(call: Call, frames: list[bytes], media_type: str, *, summary: dict | None,
                    malformed: bytes | None = None, headers: dict | None = None,
                    pace_s: float = STREAM_PACE_S, error_frame: bytes | None = None) -> Response:
    """Stream frames one by one (really separate writes), honouring cut_stream_after / malformed_frame /
    stream_error_after (the provider's own mid-stream error frame, inside an HTTP 200, as real streams do)."""
    applied = call.applied
    call.done(200, summary, stream=True)
    delay = reply_delay(call, summary)  # latency realism: the first frame after ttft, the rest at the drawn pace
    pace_s = max(pace_s, delay.generation_s / len(frames)) if frames else pace_s
    cut = applied.cut_stream_after
    bad_at = len(frames) // 2 if (applied.malformed_frame and malformed is not None) else None
    error_at = applied.stream_error_after if error_frame is not None else None
    if cut is not None:
        call.rec["error"] = f"stream cut after {cut} events (fault)"
    if error_at is not None:
        call.rec["error"] = f"mid-stream provider error after {error_at} events (fault)"
    # the stream faults that really change this stream (the server tags the answer `injected` with them)
    acted = call.extra.setdefault("injected", [])
    if bad_at is not None and (cut is None or bad_at < cut) and (error_at is None or bad_at < error_at):
        acted.append("malformed frame")
    if error_at is not None and error_at < len(frames) and (cut is None or error_at < cut):
        acted.append(f"mid-stream provider error after {error_at} events")
    if cut is not None and cut < len(frames) and (error_at is None or cut <= error_at):
        acted.append(f"stream cut after {cut} events")

    async def gen():
        try:
            if delay.ttft_s:
                await asyncio.sleep(delay.ttft_s)
            for i, frame in enumerate(frames):
                if cut is not None and i >= cut:
                    raise StreamCut(f"fault: stream cut after {cut} events")
                if error_at is not None and i >= error_at:
                    yield error_frame
                    return
                if bad_at is not None and i == bad_at:
                    yield malformed
                yield frame
                if pace_s:
                    await asyncio.sleep(pace_s)
        finally:
            call.state.captures.finish(call.rec)

    call.extra["streaming"] = True
    return StreamingResponse(gen(), media_type=media_type, headers=headers)


@dataclass(frozen=True)
class Op:
    """One route a dialect serves: an operation name (as captured), its method, a Starlette path template, and
    path parameters it implies (e.g. which verb a route is)."""
    name: str
    method: str
    path: str
    params: tuple[tuple[str, str], ...] = ()
    # Faults apply to this operation only when they name it (the Vertex `/token` exchange).
    explicit_faults: bool = False
    # A regex over the Host: the route exists only at the provider hostnames it matches (production-shaped routing),
    # e.g. Bedrock Mantle's /anthropic/v1/messages/count_tokens, whose path Azure AI Foundry also serves.
    hosts: str | None = None


class Dialect:
    """One provider on the wire. Subclasses set `provider` (the package's id), `routes`, `claims` (a regex over
    the paths meant for this provider: the longest match names the provider of a path no route serves), and
    implement `error_response` and `dispatch`."""
    provider: str = ""
    routes: tuple[Op, ...] = ()
    claims: re.Pattern | None = None

    def error_response(self, err: EmulatorError) -> Response:  # pragma: no cover - abstract
        raise NotImplementedError

    async def dispatch(self, call: Call) -> Response:  # pragma: no cover - abstract
        raise NotImplementedError

    def claim(self, path: str) -> int:
        """How much of `path` this provider claims (0: none)."""
        m = self.claims.match(path) if self.claims is not None else None
        return m.end() if m else 0

    def judge_unrouted(self, method: str, path: str) -> EmulatorError | None:
        """The answer to a request on a claimed path that no route serves, when the provider itself refuses it;
        None: the emulator does not know the path (an emulator gap)."""
        return None
