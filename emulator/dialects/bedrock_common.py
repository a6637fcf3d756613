"""Bedrock runtime: error shape, SigV4 auth, model identifiers (shared by invoke and converse)."""
from __future__ import annotations

import re
import uuid
from urllib.parse import unquote

from starlette.responses import JSONResponse

from providers._wire import framing

from .. import catalog, sigv4
from ..errors import EmulatorError, invalid

AWS_TYPES = {
    "invalid_request_error": "ValidationException",
    "authentication_error": "UnrecognizedClientException",
    "permission_error": "AccessDeniedException",
    "not_found_error": "ResourceNotFoundException",
    "timeout_error": "ModelTimeoutException",
    "request_too_large": "ValidationException",
    "rate_limit_error": "ThrottlingException",
    "api_error": "InternalServerException",
    "service_unavailable": "ServiceUnavailableException",
    "overloaded_error": "ServiceUnavailableException",
}

MODEL_ID = catalog.BEDROCK_ID
ARN = catalog.BEDROCK_ARN
INVALID_MODEL = "The provided model identifier is invalid."


def aws_type(err: EmulatorError) -> str:
    return err.aws_type or AWS_TYPES.get(err.kind, "InternalServerException")


def error_response(err: EmulatorError) -> JSONResponse:
    headers = {"x-amzn-ErrorType": aws_type(err), "x-amzn-RequestId": str(uuid.uuid4())}
    if err.retry_after is not None:
        headers["retry-after"] = str(err.retry_after)
    return JSONResponse({"message": err.message}, status_code=err.status, headers=headers)


# What a Bedrock stream carries when the service fails mid-answer: an exception frame inside the HTTP 200.
MID_STREAM_ERROR = framing.exception("serviceUnavailableException",
                                         "Bedrock is unable to process your request.")


def authenticate(call) -> None:
    sigv4.verify(call.method, call.raw_path, call.query, call.headers, call.raw)


def model_from_path(call) -> tuple[str, str]:
    """(modelId as sent, Anthropic model name); 400 for identifiers Bedrock does not know: refused when the id
    names a known model in another provider's shape or one Bedrock does not offer, a gap when the emulator has
    never heard of the model (catalog.judge)."""
    model_id = unquote(call.params["model_id"])
    probe = model_id
    m = ARN.match(model_id)
    if m:
        probe = m.group("rest")
    catalog.require(catalog.judge(call.provider, model_id), "invalid_request_error", INVALID_MODEL, 400)
    mm = MODEL_ID.match(probe)
    name = mm.group("model")
    # CountTokens takes the base foundation-model id (AWS's examples use `anthropic.claude-...-v1:0`); the
    # on-demand/inference-profile rule is for invocation only.
    counting = getattr(call, "operation", None) == "count_tokens"
    if not counting and not mm.group("geo") and not m and re.search(r"claude-(?:sonnet|opus|haiku)-4|claude-3-7", name):
        raise invalid(f"Invocation of model ID anthropic.{name} with on-demand throughput isn\u2019t supported. Retry your "
                      "request with the ID or ARN of an inference profile that contains this model.")
    return model_id, name


def invocation_metrics(usage: dict, latency_ms: int = 40) -> dict:
    return {
        "inputTokenCount": usage.get("input_tokens", 0),
        "outputTokenCount": usage.get("output_tokens", 0),
        "invocationLatency": latency_ms,
        "firstByteLatency": latency_ms // 2,
        "cacheReadInputTokenCount": usage.get("cache_read_input_tokens", 0),
        "cacheWriteInputTokenCount": usage.get("cache_creation_input_tokens", 0),
    }
