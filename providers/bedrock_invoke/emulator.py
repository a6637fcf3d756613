"""Bedrock InvokeModel / InvokeModelWithResponseStream for Anthropic models in the emulator (SigV4, AWS
event-stream): an Anthropic Messages body without `model` and `stream`, with `anthropic_version` and
`anthropic_beta` in the body."""
from __future__ import annotations

import base64
import json
import re

from starlette.responses import JSONResponse

from emulator import catalog, messages_api
from emulator.dialect import Call, Op, stream_response
from emulator.errors import invalid
from providers import _aws
from providers._bedrock import emulator as bc
from providers._wire import framing, messages
from providers._wire.capture import split_betas

from . import PROVIDER

ANTHROPIC_VERSION = "bedrock-2023-05-31"


def decode_invoke_body(body: dict, model: str, *, count: bool = False):
    """An InvokeModel body as Bedrock judges it (also inside a CountTokens `invokeModel` input), as the universal
    request; `model` is the Claude API name the URL's model id stands for.

    Betas come from the body's `anthropic_beta` only; an `anthropic-beta` HTTP header is not part of the request and
    is neither honoured nor refused. Sources: botocore's service model (bedrock-runtime InvokeModel and
    InvokeModelWithResponseStream bind only Content-Type, Accept and X-Amzn-Bedrock-* headers; AWS ignores headers
    outside an operation's model); Bedrock's Claude Messages parameters document betas as the body's
    `anthropic_beta`; Claude Code's own Bedrock mode moves the betas it needs Bedrock to honour (interleaved thinking,
    context-1m, tool-search-tool) into the body and leaves the rest in the header (the binary's body-beta set) — it
    sends `anthropic-beta: claude-code-20250219` on every native Bedrock request (measured here with 2.1.197), which a
    header-reading Bedrock would refuse as it refuses that value in the body."""
    if "anthropic_version" not in body:
        raise invalid("Malformed input request: #: required key [anthropic_version] not found, please reformat your input and try again.")
    if body.get("anthropic_version") != ANTHROPIC_VERSION:
        raise invalid(f"Malformed input request: anthropic_version: invalid value {body.get('anthropic_version')!r}, "
                      f"expected {ANTHROPIC_VERSION!r}")
    for key in ("model", "stream"):
        if key in body:
            raise invalid(f"{key}: Extra inputs are not permitted")
    betas = body.get("anthropic_beta", [])
    if not isinstance(betas, list) or not all(isinstance(b, str) for b in betas):
        raise invalid("anthropic_beta: Input should be a valid list of strings")
    merged = list(dict.fromkeys(betas))
    rest = {k: v for k, v in body.items() if k not in ("anthropic_version", "anthropic_beta")}
    rest["model"] = model
    return messages_api.decode(PROVIDER.id, rest, model=model, betas=merged, count=count)


class BedrockInvokeDialect(bc.BedrockDialect):
    provider = PROVIDER.id
    routes = (Op("invoke", "POST", "/model/{model_id:path}/invoke"),
              Op("invoke_stream", "POST", "/model/{model_id:path}/invoke-with-response-stream"),
              Op("count_tokens", "POST", "/anthropic/v1/messages/count_tokens", hosts=_aws.MANTLE_HOST))
    claims = re.compile(r"^/model/.+/invoke[^/]*$")

    async def dispatch(self, call: Call):
        bc.authenticate(call)
        if call.operation == "count_tokens":   # Mantle's (host-only route)
            return self.mantle_count_tokens(call)
        model_id, model = bc.model_from_path(call)
        body = call.json_body()
        req = decode_invoke_body(body, model)
        reply = call.state.model.respond(req, call.applied, provider=self.provider, model=model)
        if call.operation == "invoke":
            u = reply.usage
            headers = {"X-Amzn-Bedrock-Input-Token-Count": str(u["input_tokens"]),
                       "X-Amzn-Bedrock-Output-Token-Count": str(u["output_tokens"]),
                       "X-Amzn-Bedrock-Invocation-Latency": "40",
                       "X-Amzn-Bedrock-Cache-Read-Input-Token-Count": str(u.get("cache_read_input_tokens", 0)),
                       "X-Amzn-Bedrock-Cache-Write-Input-Token-Count": str(u.get("cache_creation_input_tokens", 0))}
            call.done(200, reply.summary())
            return JSONResponse(messages.reply_json(reply), headers=headers)
        frames = []
        for name, data in messages.sse_events(reply):
            if name == "ping":
                continue
            if name == "message_stop":
                data = dict(data, **{"amazon-bedrock-invocationMetrics": bc.invocation_metrics(reply.usage)})
            payload = {"bytes": base64.b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()}
            frames.append(framing.event("chunk", payload))
        malformed = framing.event("chunk", {"bytes": base64.b64encode(b'{"type":"ping"}').decode()}, corrupt=True)
        return stream_response(call, frames, "application/vnd.amazon.eventstream", summary=reply.summary(),
                               malformed=malformed, headers={"x-amzn-bedrock-content-type": "application/json"},
                               error_frame=bc.MID_STREAM_ERROR)

    def mantle_count_tokens(self, call: Call):
        """Bedrock Mantle's count_tokens: Anthropic's count_tokens body (model = a Bedrock model id, e.g.
        `anthropic.claude-haiku-5-5` as Claude Code's model table writes Mantle ids) at bedrock-mantle.<region>.api.aws,
        SigV4 for `bedrock`, `anthropic-version` header; answers `{"input_tokens": N}` (providers/_aws.py mantle_host)."""
        body = call.json_body()
        model = body.get("model")
        if not isinstance(model, str):
            raise invalid("model: Field required")
        name = catalog.require(catalog.judge(self.provider, model), "not_found_error", bc.INVALID_MODEL, 400)
        rest = {k: v for k, v in body.items() if k != "model"}
        req = messages_api.decode(self.provider, {**rest, "model": name}, model=name,
                                  betas=split_betas(call.headers.get("anthropic-beta")), count=True)
        return messages_api.count_reply(call, call.state.model.count_tokens(req, call.applied))


DIALECT = BedrockInvokeDialect()
