"""Bedrock Converse / ConverseStream / CountTokens, validated with botocore's bedrock-runtime service model."""
from __future__ import annotations

import base64
import binascii
import json
from functools import lru_cache

from providers._wire import converse, framing
from providers._wire.universal import Envelope, UniversalRequest

from .. import anthropic_schema, profiles, rules
from ..errors import EmulatorError, gap, invalid
from . import bedrock_common as bc
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
        text = report.generate_report()
        raise invalid(text.split("\n", 1)[-1].strip() if text.startswith("Parameter validation failed") else text)


def check_additional_fields(extra: dict) -> None:
    """additionalModelRequestFields keys the codec does not map. Bedrock hands these fields to the model's own
    (InvokeModel) body: a field the Anthropic Messages schema does not have, or one Bedrock InvokeModel refuses
    (profiles/bedrock_invoke.yaml top_level_refused; model and stream, bedrock_invoke.decode_invoke_body), is
    refused; a Messages field the codec does not model is beyond what the emulator can judge."""
    unknown = sorted(set(extra) - converse.ADDITIONAL_FIELDS)
    if not unknown:
        return
    message = f"The model returned the following errors: {unknown[0]}: Extra inputs are not permitted"
    refused_here = set(profiles.load("bedrock_invoke").get("top_level_refused", [])) | {"model", "stream"}
    if unknown[0] in anthropic_schema.body_fields() and unknown[0] not in refused_here:
        raise gap(message, f"additionalModelRequestFields.{unknown[0]} is an Anthropic Messages field the "
                           "emulator's Converse codec does not model")
    raise invalid(message)


def decode(provider: str, params: dict, model: str, endpoint: str, stream: bool = False) -> UniversalRequest:
    """What Converse refuses, then the universal request of it (betas and model rules are the caller's)."""
    try:
        converse.check(params)
    except converse.Invalid as exc:
        raise invalid(str(exc)) from None
    check_additional_fields(params.get("additionalModelRequestFields") or {})
    return converse.decode_body(params, Envelope(format=provider, endpoint=endpoint, stream=stream, model=model))


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
        streaming = call.operation == "converse_stream"
        validate("ConverseStream" if streaming else "Converse", params)
        req = decode(self.provider, params, model, "converse", streaming)
        rules.check_betas(self.provider, req.betas)
        rules.check_request(self.provider, model, req)
        reply = call.state.model.respond(req, call.applied, provider=self.provider, model=model)
        if not streaming:
            return json_response(call, converse.encode_reply(reply), summary=reply.summary())
        frames = [framing.event(name, data) for name, data in converse.stream_events(reply)]
        malformed = framing.event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "?"}}, corrupt=True)
        return stream_response(call, frames, "application/vnd.amazon.eventstream", summary=reply.summary(),
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
            req = decode(self.provider, dict(inp["converse"]), model, "count_tokens")
            rules.check_request(self.provider, model, req)
        else:
            raise invalid("input: exactly one of invokeModel or converse must be set")
        n = call.state.model.count_tokens(req, call.applied)
        return json_response(call, {"inputTokens": n}, summary={"input_tokens": n})
