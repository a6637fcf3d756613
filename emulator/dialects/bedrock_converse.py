"""Bedrock Converse / ConverseStream / CountTokens, validated with botocore's bedrock-runtime service model."""
from __future__ import annotations

import base64
import binascii
import json
from functools import lru_cache

from .. import eventstream, rules, sse
from ..errors import EmulatorError, invalid
from . import bedrock_common as bc
from . import converse_codec as cc
from .base import Call, Dialect, json_response, stream_response
from .bedrock_invoke import decode_invoke_body


@lru_cache(maxsize=1)
def _service():
    import botocore.session

    return botocore.session.get_session().get_service_model("bedrock-runtime")


def validate(operation: str, params: dict) -> None:
    from botocore.validate import ParamValidator

    shape = _service().operation_model(operation).input_shape
    report = ParamValidator().validate(params, shape)
    if report.has_errors():
        text = report.generate_report().replace("Invalid type for parameter", "Invalid type for parameter")
        raise invalid(text.split("\n", 1)[-1].strip() if text.startswith("Parameter validation failed") else text)


class BedrockConverseDialect(Dialect):
    provider = "bedrock_converse"

    def error_response(self, err: EmulatorError):
        return bc.error_response(err)

    async def dispatch(self, call: Call):
        bc.authenticate(call)
        model_id, model = bc.model_from_path(call)
        body = call.json_body()
        params = dict(body, modelId=model_id)
        if call.operation == "count_tokens":
            return self.count_tokens(call, params, model)
        validate("ConverseStream" if call.operation == "converse_stream" else "Converse", params)
        req = cc.decode(self.provider, params, model)
        rules.check_betas(self.provider, req.betas)
        rules.check_request(req, params.get("additionalModelRequestFields") or {})
        reply = call.state.model.respond(req, call.applied)
        reply.model = model
        if call.operation == "converse":
            return json_response(call, cc.encode_reply(reply), neutral=reply.neutral())
        frames = [eventstream.event(name, data) for name, data in cc.stream_events(reply, sse._split_text, sse._split_json)]
        malformed = eventstream.event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "?"}}, corrupt=True)
        return stream_response(call, frames, "application/vnd.amazon.eventstream", neutral=reply.neutral(),
                               malformed=malformed, error_frame=bc.MID_STREAM_ERROR)

    def count_tokens(self, call: Call, params: dict, model: str):
        validate("CountTokens", params)
        inp = params["input"]
        if "invokeModel" in inp:
            call.rec["provider"] = "bedrock_invoke"
            try:
                body = json.loads(base64.b64decode(inp["invokeModel"]["body"], validate=True))
            except (binascii.Error, ValueError):
                raise invalid("input.invokeModel.body: the body is not a valid base64-encoded JSON document")
            if not isinstance(body, dict):
                raise invalid("input.invokeModel.body: must be a JSON object")
            req = decode_invoke_body("bedrock_invoke", body, model, [])
        elif "converse" in inp:
            conv = dict(inp["converse"])
            req = cc.decode(self.provider, conv, model)
            rules.check_request(req, conv.get("additionalModelRequestFields") or {})
        else:
            raise invalid("input: exactly one of invokeModel or converse must be set")
        n = call.state.model.count_tokens(req, call.applied)
        return json_response(call, {"inputTokens": n}, neutral={"input_tokens": n})
