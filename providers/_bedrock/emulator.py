"""The Bedrock runtime as the emulator serves it, for both APIs: the error shape, SigV4 auth, model identifiers in
the URL, botocore's bedrock-runtime service model (request validation, and which paths are operations at all),
the paths Bedrock claims."""
from __future__ import annotations

import re
import uuid
from functools import lru_cache
from urllib.parse import unquote

from starlette.responses import JSONResponse

from emulator import catalog
from emulator.dialect import Dialect
from emulator.errors import EmulatorError, invalid
from providers import _aws
from providers._wire import framing

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
    _aws.verify(call.method, call.raw_path, call.query, call.headers, call.raw)


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


# -- botocore's service model --------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def service():
    import botocore.session

    return botocore.session.get_session().get_service_model("bedrock-runtime")


def validate(operation: str, params: dict) -> None:
    """Refuse `params` (the body, `modelId` put back from the URL) as botocore's ParamValidator would."""
    from botocore.validate import ParamValidator

    report = ParamValidator().validate(params, service().operation_model(operation).input_shape)
    if report.has_errors():
        text = report.generate_report()
        raise invalid(text.split("\n", 1)[-1].strip() if text.startswith("Parameter validation failed") else text)


@lru_cache(maxsize=1)
def _operations() -> list[tuple[str, str, re.Pattern]]:
    """(operation, method, path regex) of every bedrock-runtime operation in botocore's service model."""
    out = []
    for name in service().operation_names:
        http = service().operation_model(name).http
        uri = http["requestUri"].split("?", 1)[0]
        rx = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(uri)).replace("/model/[^/]+/", "/model/.+/")
        out.append((name, http["method"], re.compile("^" + rx + "$")))
    return out


def operation(method: str, path: str) -> str | None:
    """The bedrock-runtime operation (botocore's name) this request is, or None."""
    return next((name for name, m, rx in _operations() if m == method and rx.match(path)), None)


# Bedrock runtime's own namespaces: botocore's service model lists every operation under them, so a path there
# that is no operation is one Bedrock itself refuses (not a gap of the emulator).
NAMESPACE = re.compile(r"^/(?:model|guardrail|guardrail-checks|async-invoke)(?:/|$)")


class BedrockDialect(Dialect):
    """What both Bedrock APIs answer alike: errors, and paths in Bedrock's namespaces that no route serves."""
    claims = NAMESPACE

    def error_response(self, err: EmulatorError):
        return error_response(err)

    def judge_unrouted(self, method: str, path: str) -> EmulatorError | None:
        message = f"Not found: {method} {path}"
        op = operation(method, path)
        if op:
            return EmulatorError("not_found_error", message, 404, cause="emulator_gap",
                                 reason=f"emulator gap: Bedrock runtime operation {op} is not emulated")
        if NAMESPACE.match(path):
            return EmulatorError("not_found_error", "The requested operation is not recognized by the service.", 404,
                                 aws_type="UnknownOperationException",
                                 reason=f"{method} {path} is no bedrock-runtime operation (botocore service model)")
        return None
