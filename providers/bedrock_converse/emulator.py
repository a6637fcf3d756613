"""Bedrock Converse / ConverseStream / CountTokens in the emulator, validated with botocore's bedrock-runtime
service model, decoded with the one Converse codec."""
from __future__ import annotations

import base64
import binascii
import json

from emulator import anthropic_schema, profiles, rules
from emulator.dialect import Call, Op, json_response, stream_response
from emulator.errors import gap, invalid
from providers._bedrock import emulator as bc
from providers._wire import converse, framing
from providers._wire.universal import Envelope, UniversalRequest
from providers.bedrock_invoke import PROVIDER as INVOKE
from providers.bedrock_invoke.emulator import decode_invoke_body

from . import PROVIDER


def check_additional_fields(extra: dict) -> None:
    """additionalModelRequestFields keys the codec does not map. Bedrock hands these fields to the model's own
    (InvokeModel) body: a field the Anthropic Messages schema does not have, or one Bedrock InvokeModel refuses
    (providers/bedrock_invoke/profile.yaml top_level_refused; model and stream, decode_invoke_body), is refused; a
    Messages field the codec does not model is beyond what the emulator can judge."""
    unknown = sorted(set(extra) - converse.ADDITIONAL_FIELDS)
    if not unknown:
        return
    message = f"The model returned the following errors: {unknown[0]}: Extra inputs are not permitted"
    refused_here = set(profiles.load(INVOKE.id).get("top_level_refused", [])) | {"model", "stream"}
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


class BedrockConverseDialect(bc.BedrockDialect):
    provider = PROVIDER.id
    routes = (Op("converse", "POST", "/model/{model_id:path}/converse"),
              Op("converse_stream", "POST", "/model/{model_id:path}/converse-stream"),
              Op("count_tokens", "POST", "/model/{model_id:path}/count-tokens"))

    async def dispatch(self, call: Call):
        bc.authenticate(call)
        model_id, model = bc.model_from_path(call)
        body = call.json_body()
        params = dict(body, modelId=model_id)
        if call.operation == "count_tokens":
            return self.count_tokens(call, params, model)
        streaming = call.operation == "converse_stream"
        bc.validate("ConverseStream" if streaming else "Converse", params)
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
        bc.validate("CountTokens", params)
        inp = params["input"]
        if "invokeModel" in inp:
            call.rec["provider"] = INVOKE.id
            try:
                body = json.loads(base64.b64decode(inp["invokeModel"]["body"], validate=True))
            except (binascii.Error, ValueError):
                raise invalid("input.invokeModel.body: the body is not a valid base64-encoded JSON document")
            if not isinstance(body, dict):
                raise invalid("input.invokeModel.body: must be a JSON object")
            req = decode_invoke_body(body, model)
        elif "converse" in inp:
            req = decode(self.provider, dict(inp["converse"]), model, "count_tokens")
            rules.check_request(self.provider, model, req)
        else:
            raise invalid("input: exactly one of invokeModel or converse must be set")
        n = call.state.model.count_tokens(req, call.applied)
        return json_response(call, {"inputTokens": n}, summary={"input_tokens": n})


DIALECT = BedrockConverseDialect()
