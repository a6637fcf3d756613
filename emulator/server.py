"""The emulator app: all five dialects and the control API on one port.

    build_app(data_dir) -> ASGI app (in-process tests)
    serve(host, port, data_dir)  (blocking; uvicorn)
"""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import anthropic_schema, control, routes
from .dialects.anthropic import AnthropicDialect
from .dialects.base import Call, StreamCut
from .errors import CAUSES, STATUS_KIND, EmulatorError
from .state import State

log = logging.getLogger("emulator")

MAX_BODY_BYTES = 48 * 1024 * 1024


def _dialects() -> dict:
    out = {"anthropic": AnthropicDialect()}
    try:
        from .dialects.azure import AzureDialect
        out["azure"] = AzureDialect()
    except ImportError:  # pragma: no cover - during incremental development
        pass
    try:
        from .dialects.vertex import VertexDialect
        out["vertex_ai"] = VertexDialect()
    except ImportError:  # pragma: no cover
        pass
    try:
        from .dialects.bedrock_invoke import BedrockInvokeDialect
        from .dialects.bedrock_converse import BedrockConverseDialect
        out["bedrock_invoke"] = BedrockInvokeDialect()
        out["bedrock_converse"] = BedrockConverseDialect()
    except ImportError:  # pragma: no cover
        pass
    return out


def fault_error(status: int, retry_after: int | None) -> EmulatorError:
    kind = STATUS_KIND.get(status, "api_error" if status >= 500 else "invalid_request_error")
    messages = {
        "rate_limit_error": "Number of request tokens has exceeded your per-minute rate limit (emulator fault)",
        "overloaded_error": "Overloaded (emulator fault)",
        "permission_error": "Your credentials do not have permission to use this model (emulator fault)",
        "authentication_error": "invalid credentials (emulator fault)",
        "not_found_error": "model not found (emulator fault)",
        "service_unavailable": "Service unavailable (emulator fault)",
    }
    if status == 429 and retry_after is None:
        retry_after = 1
    return EmulatorError(kind, messages.get(kind, f"Internal server error (emulator fault {status})"), status,
                         retry_after=retry_after, cause="injected",
                         reason=f"fault: status {status}" + (f" (retry-after {retry_after}s)" if retry_after else ""))


def tag(rec: dict, cause: str, reason: str | None) -> None:
    """Why the emulator answered what it did: the record's `cause` and `cause_reason` (README "Why it answered")."""
    assert cause in CAUSES, cause
    rec["cause"] = cause
    rec["cause_reason"] = None if reason is None else " ".join(str(reason).split())[:1000]


class EmulatorApp:
    def __init__(self, data_dir: Path):
        self.state = State(Path(data_dir))
        self.dialects = _dialects()
        anthropic_schema.warm()

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        response = await self.route(request)
        try:
            await response(scope, receive, send)
        except StreamCut:
            # returning with the body incomplete makes the server drop the connection mid-stream
            log.info("stream cut by fault on %s", scope.get("path"))

    async def route(self, request: Request) -> Response:
        path = request.url.path
        method = request.method
        if path in ("/", "") and method in ("GET", "HEAD"):
            return JSONResponse({"ok": True, "service": "ccmatrix-emulator"})
        if path.startswith("/_emulator/"):
            return await control.handle(self.state, request, path[len("/_emulator/"):].strip("/"))
        hit = routes.match(method, path)
        if hit is None:
            return await self.unrouted(request, *self._judge_unrouted(method, path))
        provider, operation, params = hit
        dialect = self._dialect(provider)
        if dialect is None:  # pragma: no cover - every routed provider has its dialect
            return await self.unrouted(request, provider, "unknown", EmulatorError(
                "not_found_error", f"Not found: {method} {path}", 404, cause="emulator_gap",
                reason=f"emulator gap: no {provider} dialect loaded"))
        if operation == "_method":
            # a provider's own path with the wrong method: the provider refuses it
            return await self.unrouted(request, provider, params.get("operation", "unknown"),
                                       EmulatorError("not_found_error", f"{method} {path} not supported", 405))
        return await self.handle(dialect, provider, operation, params, request)

    def _dialect(self, provider: str | None):
        dialect = self.dialects.get(provider) if provider else None
        if dialect is None and provider and provider.startswith("bedrock"):
            dialect = self.dialects.get("bedrock_converse")
        return dialect

    @staticmethod
    def _judge_unrouted(method: str, path: str) -> tuple[str | None, str, EmulatorError]:
        """(provider guess, operation "unknown", the error) for a request that matches no route."""
        provider = routes.guess_provider(path)
        message = f"Not found: {method} {path}"
        if provider and provider.startswith("bedrock"):
            op = routes.bedrock_operation(method, path)
            if op:
                return provider, "unknown", EmulatorError(
                    "not_found_error", message, 404, cause="emulator_gap",
                    reason=f"emulator gap: Bedrock runtime operation {op} is not emulated")
            if routes.BEDROCK_NAMESPACE.match(path):
                # botocore's bedrock-runtime service model lists every operation of this namespace: none is this
                return provider, "unknown", EmulatorError(
                    "not_found_error", "The requested operation is not recognized by the service.", 404,
                    aws_type="UnknownOperationException",
                    reason=f"{method} {path} is no bedrock-runtime operation (botocore service model)")
        return provider, "unknown", EmulatorError(
            "not_found_error", message, 404, cause="emulator_gap",
            reason=f"emulator gap: {method} {path} matches no emulated route"
                   + (f" (closest provider: {provider})" if provider else ""))

    async def unrouted(self, request: Request, provider: str | None, operation: str, err: EmulatorError) -> Response:
        """Answer (in the guessed provider's error shape) and capture a request no dialect handles."""
        st = self.state
        raw = await self._read_body(request)
        rec = st.captures.new(st.job_id, provider, operation, request.method, request.url.path,
                              request.url.query, request.headers, raw or b"", request.headers.get("content-type", ""))
        dialect = self._dialect(provider)
        if dialect is not None:
            response = dialect.error_response(err)
        else:
            response = JSONResponse({"type": "error", "error": {"type": err.kind, "message": err.message}},
                                    status_code=err.status)
        rec["status"] = response.status_code
        rec["error"] = err.message
        tag(rec, err.cause, err.reason)
        st.captures.finish(rec)
        return response

    async def _read_body(self, request: Request) -> bytes | None:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return None
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    async def handle(self, dialect, provider, operation, params, request: Request) -> Response:
        st = self.state
        raw = await self._read_body(request)
        raw_path = request.scope.get("raw_path", b"").decode("latin-1").split("?", 1)[0] or request.url.path
        rec = st.captures.new(st.job_id, provider, operation, request.method, request.url.path,
                              request.url.query, request.headers, raw or b"", request.headers.get("content-type", ""))
        # the Vertex token exchange takes only faults that name operation "token" (faults.py)
        applied = st.faults.take(provider, operation, explicit_only=operation == "token")
        call = Call(provider=provider, operation=operation, method=request.method, path=request.url.path,
                    raw_path=raw_path, query=request.url.query, headers=request.headers, raw=raw or b"",
                    params=params, applied=applied, rec=rec, state=st)
        try:
            if raw is None:
                raise EmulatorError("request_too_large", f"Request exceeds the maximum size of {MAX_BODY_BYTES} bytes", 413)
            if applied.delay_s:
                await asyncio.sleep(applied.delay_s)
            if applied.status:
                raise fault_error(applied.status, applied.retry_after)
            response = await dialect.dispatch(call)
        except EmulatorError as err:
            response = dialect.error_response(err)
            call.done(response.status_code, error=err.message)
            tag(rec, err.cause, err.reason)
        except Exception as exc:  # never crash: a provider-styled 500
            log.exception("emulator internal error on %s %s", request.method, request.url.path)
            err = EmulatorError("api_error", f"Internal server error: {type(exc).__name__}", 500)
            response = dialect.error_response(err)
            call.done(500, error=err.message)
            tag(rec, "emulator_gap", f"emulator internal error: {type(exc).__name__}: {exc}")
        else:
            if response.status_code >= 400:   # answered an error without raising (the Vertex token exchange)
                tag(rec, "refused", rec.get("error") or f"HTTP {response.status_code}")
            else:
                injected = applied.describe(call.extra.get("injected"))
                tag(rec, "injected" if injected else "ok", injected)
        if not call.extra.get("streaming"):
            rec["status"] = response.status_code
            st.captures.finish(rec)
        return response


def build_app(data_dir) -> EmulatorApp:
    return EmulatorApp(Path(data_dir))


def serve(host: str, port: int, data_dir) -> None:
    import uvicorn

    app = build_app(data_dir)
    uvicorn.run(app, host=host, port=int(port), log_level="warning", lifespan="on",
                timeout_keep_alive=30, h11_max_incomplete_event_size=MAX_BODY_BYTES)
