"""Typed outcomes of a tier run and of a cell, and how tiers combine into a cell."""
from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, Field


class Status(str, Enum):
    PASS = "pass"
    FAIL = "fail"  # the gateway is wrong (translated badly, or sent what the provider refuses)
    ERROR = "error"  # infrastructure: credentials, quota, timeout, proxy did not boot...
    NOT_APPLICABLE = "not_applicable"  # by data, always with a reason
    NOT_TESTED = "not_tested"


# Who is to blame for a tier that did not pass (None for a pass):
#   gateway        the gateway sent what the provider refuses, called nothing, or answered wrongly  (status fail)
#   provider       the provider itself failed: overloaded, rate limited, 5xx, mid-stream error        (status error)
#   infrastructure our side: provisioning, proxy boot, sandbox, timeouts, time limits, credentials    (status error)
#   emulator_gap   the emulator could not judge the request (a route, model or field it does not know) (status error)
#   client         the CLI itself broke (no result, crashed)                                          (status error)
Cause = Literal["gateway", "provider", "infrastructure", "emulator_gap", "client"]
CAUSES: tuple[str, ...] = ("gateway", "provider", "infrastructure", "emulator_gap", "client")

# What the emulator says about each answer it gave (recorded in its capture as `cause`):
#   ok, injected (a fault the run asked for), refused (the request broke the provider's contract),
#   emulator_gap (a request the emulator cannot judge).
UPSTREAM_CAUSES: tuple[str, ...] = ("ok", "injected", "refused", "emulator_gap")


class UpstreamCall(BaseModel):
    method: str
    path: str
    status: int | None = None
    cause: str | None = None  # the emulator's tag (UPSTREAM_CAUSES); None against a real provider
    reason: str | None = None  # the emulator's reason for a refusal or a gap


class GatewayResponse(BaseModel):
    """What the gateway itself answered the client (status and body, truncated, secrets masked)."""

    status: int
    body: str | None = None
    source: str | None = None  # recorder (between the CLI and the gateway) | cli (its API Error line) | direct


class Evidence(BaseModel):
    """What a tier run leaves behind so a reader can see why a cell has its colour."""

    result_text: str | None = None  # the CLI's final result text, truncated
    api_error_status: int | None = None
    upstream_calls: list[UpstreamCall] = Field(default_factory=list)
    assertion: str | None = None  # the assertion that failed, if any
    findings: list[str] = Field(default_factory=list)  # e.g. egress attempts blocked by the sandbox
    gateway_response: GatewayResponse | None = None  # the gateway's own answer when it answered an error
    decisive: list[str] = Field(default_factory=list)  # the decisive assertions that ran (a pass needs them all)
    extra: dict[str, Any] = Field(default_factory=dict)


class TierResult(BaseModel):
    status: Status
    error: str | None = None
    reason: str | None = None
    cause: Cause | None = None  # who is to blame when the tier did not pass (see CAUSES)
    duration_ms: int | None = None
    evidence: Evidence | None = None
    fidelity: dict[str, Any] | None = None

    @classmethod
    def passed(cls, **kw: Any) -> "TierResult":
        return cls(status=Status.PASS, **kw)

    @classmethod
    def failed(cls, error: str, **kw: Any) -> "TierResult":
        kw.setdefault("cause", "gateway")
        return cls(status=Status.FAIL, error=error, **kw)

    @classmethod
    def errored(cls, reason: str, **kw: Any) -> "TierResult":
        kw.setdefault("cause", "infrastructure")
        return cls(status=Status.ERROR, error=reason, **kw)

    @classmethod
    def not_applicable(cls, reason: str) -> "TierResult":
        return cls(status=Status.NOT_APPLICABLE, reason=reason)

    @classmethod
    def not_tested(cls, reason: str, **kw: Any) -> "TierResult":
        kw.setdefault("cause", "infrastructure")  # our harness could not conclude (never the gateway's fault)
        return cls(status=Status.NOT_TESTED, reason=reason, **kw)


class CellResult(BaseModel):
    feature: str
    provider: str
    status: Status
    error: str | None = None
    reason: str | None = None
    tiers: dict[str, TierResult] = Field(default_factory=dict)
    fidelity: dict[str, Any] | None = None
    duration_ms: int | None = None


def aggregate(tiers: dict[str, TierResult]) -> tuple[Status, str | None, str | None]:
    """Combine tier results into (status, error, reason) for the cell.

    The rule, in order:
    1. Tiers that are not_applicable (by data) are set aside; if nothing else is left the cell is
       not_applicable, with their reason.
    2. Any `fail` makes the cell `fail` — the gateway is wrong on at least one tier, whatever else happened.
    3. Else any `error` makes the cell `error` — we could not tell, an infrastructure fault hid the answer.
    4. Else any `not_tested` makes the cell `not_tested` (a cell is never green on partial evidence).
    5. Else every remaining tier passed: `pass`.
    The error/reason of a non-pass cell names the tiers it comes from.
    """
    if not tiers:
        return Status.NOT_TESTED, None, "no tier was run"
    applicable = {name: t for name, t in tiers.items() if t.status != Status.NOT_APPLICABLE}
    if not applicable:
        reasons = sorted({t.reason or "not applicable" for t in tiers.values()})
        return Status.NOT_APPLICABLE, None, "; ".join(reasons)
    for status in (Status.FAIL, Status.ERROR, Status.NOT_TESTED):
        hit = {name: t for name, t in applicable.items() if t.status == status}
        if hit:
            text = "; ".join(f"{name}: {t.error or t.reason or status.value}" for name, t in hit.items())
            if status == Status.NOT_TESTED:
                return status, None, text
            return status, text, None
    return Status.PASS, None, None


def cell_from_tiers(feature: str, provider: str, tiers: dict[str, TierResult], **kw: Any) -> CellResult:
    status, error, reason = aggregate(tiers)
    return CellResult(feature=feature, provider=provider, status=status, error=error, reason=reason, tiers=tiers, **kw)
