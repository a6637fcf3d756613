"""Anthropic's first-party API in the emulator: POST /v1/messages (JSON, SSE), POST /v1/messages/count_tokens."""
from __future__ import annotations

import re
import uuid

from starlette.responses import JSONResponse

from emulator import messages_api
from emulator.dialect import Call, Dialect, Op
from emulator.errors import EmulatorError
from providers._wire.capture import split_betas

from . import PROVIDER, credentials


def error_response(err: EmulatorError) -> JSONResponse:
    """`{"type": "error", "error": {"type", "message"}}` with the status, request-id and retry headers."""
    headers = {"request-id": "req_emu_" + uuid.uuid4().hex[:20], "x-should-retry": "true" if err.status >= 429 else "false"}
    if err.retry_after is not None:
        headers["retry-after"] = str(err.retry_after)
    kind = err.kind if err.kind not in ("service_unavailable", "timeout_error") else "api_error"
    return JSONResponse({"type": "error", "error": {"type": kind, "message": err.message}},
                        status_code=err.status, headers=headers)


class AnthropicDialect(Dialect):
    """The Anthropic API surface: an API key, the `anthropic-version` header, the model in the body."""
    provider = PROVIDER.id
    routes = (Op("count_tokens", "POST", "/v1/messages/count_tokens"), Op("messages", "POST", "/v1/messages"))
    claims = re.compile(r"^/v1/")

    def error_response(self, err: EmulatorError):
        return error_response(err)

    def authenticate(self, call: Call) -> None:
        credentials.check(call.headers)

    @staticmethod
    def check_version(call: Call) -> None:
        v = call.headers.get("anthropic-version")
        if not v:
            raise EmulatorError("invalid_request_error", "anthropic-version: header is required", 400)
        if not re.fullmatch(r"20\d\d-\d\d-\d\d", v) or v < "2023-01-01":
            raise EmulatorError("invalid_request_error", f"anthropic-version: invalid version '{v}'", 400)

    @staticmethod
    def model_name(body: dict) -> str:
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
        if call.operation == "count_tokens":
            req = messages_api.decode(self.provider, body, model=model, betas=betas, count=True)
            return messages_api.count_reply(call, call.state.model.count_tokens(req, call.applied))
        req = messages_api.decode(self.provider, body, model=model, betas=betas)
        reply = call.state.model.respond(req, call.applied, provider=self.provider, model=model)
        return messages_api.reply_or_stream(call, reply, req.envelope.stream)


DIALECT = AnthropicDialect()
