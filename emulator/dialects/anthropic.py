"""Anthropic first-party API: POST /v1/messages (JSON, SSE), POST /v1/messages/count_tokens."""
from __future__ import annotations

import hmac
import re
import uuid

from starlette.responses import JSONResponse

from providers._wire.capture import split_betas

from .. import credentials
from ..errors import EmulatorError
from . import messages_common as mc
from .base import Call, Dialect


def anthropic_error_response(err: EmulatorError) -> JSONResponse:
    headers = {"request-id": "req_emu_" + uuid.uuid4().hex[:20], "x-should-retry": "true" if err.status >= 429 else "false"}
    if err.retry_after is not None:
        headers["retry-after"] = str(err.retry_after)
    kind = err.kind if err.kind != "service_unavailable" else "api_error"
    if kind == "timeout_error":
        kind = "api_error"
    return JSONResponse({"type": "error", "error": {"type": kind, "message": err.message}},
                        status_code=err.status, headers=headers)


class AnthropicDialect(Dialect):
    provider = "anthropic"
    api_key = credentials.ANTHROPIC_API_KEY

    def error_response(self, err: EmulatorError):
        return anthropic_error_response(err)

    def authenticate(self, call: Call) -> None:
        key = call.headers.get("x-api-key")
        auth = call.headers.get("authorization", "")
        if key is None and auth.lower().startswith("bearer "):
            key = auth[7:].strip()   # the SDK >= 2.x sends the API key as a bearer token
        if key is None:
            raise EmulatorError("authentication_error", "x-api-key header is required", 401)
        if not hmac.compare_digest(key.encode(), self.api_key.encode()):
            raise EmulatorError("authentication_error", "invalid x-api-key", 401)

    def check_version(self, call: Call) -> None:
        v = call.headers.get("anthropic-version")
        if not v:
            raise EmulatorError("invalid_request_error", "anthropic-version: header is required", 400)
        if not re.fullmatch(r"20\d\d-\d\d-\d\d", v) or v < "2023-01-01":
            raise EmulatorError("invalid_request_error", f"anthropic-version: invalid version '{v}'", 400)

    def model_name(self, body: dict) -> str:
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise EmulatorError("invalid_request_error", "model: Field required", 400)
        return model

    async def dispatch(self, call: Call):
        self.authenticate(call)
        self.check_version(call)
        body = call.json_body()
        betas = split_betas(call.headers.get("anthropic-beta"))
        model = self.model_name(body)
        model_state = call.state.model
        if call.operation == "count_tokens":
            req = mc.decode(self.provider, body, model=model, betas=betas, count=True)
            return mc.count_reply(call, model_state.count_tokens(req, call.applied))
        req = mc.decode(self.provider, body, model=model, betas=betas)
        reply = model_state.respond(req, call.applied, provider=self.provider, model=model)
        return mc.reply_or_stream(call, reply, req.envelope.stream)
