"""Provider-neutral refusal; each dialect renders it in its own error shape."""
from __future__ import annotations

# neutral kind -> default HTTP status
KIND_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "timeout_error": 408,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "service_unavailable": 503,
    "overloaded_error": 529,
}
STATUS_KIND = {
    400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
    404: "not_found_error", 408: "timeout_error", 413: "request_too_large", 429: "rate_limit_error",
    500: "api_error", 502: "api_error", 503: "service_unavailable", 504: "timeout_error",
    529: "overloaded_error",
}


class EmulatorError(Exception):
    """A refusal: kind (Anthropic error type vocabulary), message, status, optional provider-specific name."""

    def __init__(self, kind: str, message: str, status: int | None = None, *,
                 aws_type: str | None = None, retry_after: int | None = None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status or KIND_STATUS.get(kind, 400)
        self.aws_type = aws_type
        self.retry_after = retry_after


def invalid(message: str, **kw) -> EmulatorError:
    return EmulatorError("invalid_request_error", message, 400, **kw)
