"""Provider-neutral refusal; each dialect renders it in its own error shape.

Every error also says why the emulator gave it (its `cause`, recorded in the capture, see README "Why it answered"):
"refused" (the request broke the provider's contract: the default), "injected" (a fault the run asked for) or
"emulator_gap" (the emulator cannot judge the request; it still answers like the provider would).
"""
from __future__ import annotations

# Why the emulator answered what it did (capture key `cause`).
CAUSES = ("ok", "injected", "refused", "emulator_gap")

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
    """A refusal: kind (Anthropic error type vocabulary), message, status, optional provider-specific name.

    `cause` says why (see CAUSES; default "refused"); `reason` is the one-line human reason recorded with it
    (default: the message itself)."""

    def __init__(self, kind: str, message: str, status: int | None = None, *,
                 aws_type: str | None = None, retry_after: int | None = None,
                 cause: str = "refused", reason: str | None = None):
        super().__init__(message)
        if cause not in CAUSES or cause == "ok":
            raise ValueError(f"an error's cause is one of injected, refused, emulator_gap, not {cause!r}")
        self.kind = kind
        self.message = message
        self.status = status or KIND_STATUS.get(kind, 400)
        self.aws_type = aws_type
        self.retry_after = retry_after
        self.cause = cause
        self.reason = reason or message


def invalid(message: str, **kw) -> EmulatorError:
    return EmulatorError("invalid_request_error", message, 400, **kw)


def gap(message: str, what: str, *, kind: str = "invalid_request_error", status: int | None = None,
        **kw) -> EmulatorError:
    """What the emulator cannot judge: answered like the provider would (`message`, `kind`, `status`), recorded
    with cause emulator_gap and reason "emulator gap: <what it does not know>"."""
    return EmulatorError(kind, message, status, cause="emulator_gap", reason="emulator gap: " + what, **kw)


def injected(message: str, fault: str, *, kind: str = "invalid_request_error", status: int | None = None,
             **kw) -> EmulatorError:
    """An error a fault of the run caused (directly or by what an earlier faulty answer made the client send)."""
    return EmulatorError(kind, message, status, cause="injected", reason="fault: " + fault, **kw)
