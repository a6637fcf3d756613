"""Sample matrices built from the real models: for the tests and for previewing the page (never hand-typed JSON)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from collections import Counter

from ccmatrix.matrix import (Cell, FeatureRow, GatewayRecord, Matrix, ProviderDetail, TierDetail, TierModel,
                             cause_report)
from providers import registry
from ccmatrix.outcomes import CellResult, Evidence, GatewayResponse, Status, UpstreamCall

PROVIDERS = registry.ids()  # the provider packages, in column order
NAMES = {p.id: p.name for p in registry.all()}
FIRST, SECOND, FOURTH = PROVIDERS[0], PROVIDERS[1], PROVIDERS[3]  # sample cells, by column position
TIERS = ["haiku", "sonnet", "opus"]
# The sample's columns run against the emulator except these (so both header marks show up in previews).
REAL = {FOURTH}
# The sample's tier models (policy `latest`, as a run against Claude Code 2.1.197 resolves it), and each column's id
# for them in its provider's shape (Provider.model_id_shape); the fourth column does not offer the opus tier's model.
TIER_MODELS = {"haiku": ("claude-haiku-4-5", "20251001"), "sonnet": ("claude-sonnet-4-5", "20250929"),
               "opus": ("claude-opus-4-5", "20251101")}


def sample_tier_models() -> dict[str, TierModel]:
    return {t: TierModel(model=f"{name}-{date}", policy="latest", requested="latest", source="manifest",
                         model_table="2.1.197", table_model=name) for t, (name, date) in TIER_MODELS.items()}


def column_models(provider: str) -> dict[str, str | None]:
    shape = registry.get(provider).model_id_shape if provider in PROVIDERS else "api"
    out: dict[str, str | None] = {}
    for t, (name, date) in TIER_MODELS.items():
        out[t] = {"bedrock": f"us.anthropic.{name}-{date}-v1:0", "vertex": f"{name}@{date}"}.get(shape,
                                                                                                 f"{name}-{date}")
    if provider == FOURTH:
        out["opus"] = None
    return out


# A tier that did not pass has a cause; these are the defaults the outcome model gives each status.
DEFAULT_CAUSE = {Status.FAIL: "gateway", Status.ERROR: "infrastructure", Status.NOT_TESTED: "infrastructure"}
GATEWAY_BODY = ('{"error": {"message": "litellm.BadRequestError: BedrockException - '
                '{\\"message\\":\\"Malformed input request: <tool_choice> is not permitted\\"}", '
                '"type": "invalid_request_error", "code": "400"}}')


def tier(status: str, *, error: str | None = None, reason: str | None = None, cause: str | None = None,
         emulated: bool = True, duration_ms: int = 1000, gateway_response: GatewayResponse | None = None,
         upstream_calls: list[UpstreamCall] | None = None) -> TierDetail:
    """One tier as the worker reports it: a non-pass tier has a cause; emulated upstream calls carry the
    emulator's tag (a refusal for a fail), real ones none; a fail has the gateway's own answer."""
    status = Status(status)
    if cause is None:
        cause = DEFAULT_CAUSE.get(status)
    if upstream_calls is None:
        refused = status == Status.FAIL
        upstream_calls = [UpstreamCall(
            method="POST", path="/v1/messages", status=400 if refused else 200,
            cause=("refused" if refused else "ok") if emulated else None,
            reason="tool_choice is not a field of this API" if refused and emulated else None)]
    if gateway_response is None and status == Status.FAIL:
        gateway_response = GatewayResponse(status=500, body=GATEWAY_BODY)
    return TierDetail(
        status=status,
        error=error,
        reason=reason,
        cause=cause,
        duration_ms=duration_ms,
        evidence=Evidence(
            result_text="PONG" if status == Status.PASS else "API Error: 500",
            api_error_status=None if status == Status.PASS else 500,
            upstream_calls=upstream_calls,
            assertion=None if status == Status.PASS else "result_text == 'PONG'",
            findings=["egress blocked: example.com:443"] if status == Status.ERROR else [],
            gateway_response=gateway_response,
            decisive=["result_text == 'PONG'"] if status == Status.PASS else [],
        ),
    )


def cell(status: str, *, error: str | None = None, reason: str | None = None, fidelity=None, tiers=None,
         cause: str | None = None, emulated: bool = True) -> Cell:
    status = Status(status)
    if tiers is None:
        tiers = {t: tier(status.value, error=error, reason=reason, cause=cause, emulated=emulated, duration_ms=1000 + i)
                 for i, t in enumerate(TIERS)}
    return Cell(status=status, error=error, reason=reason, tiers=tiers, fidelity=fidelity)


def matrix(
    cells: dict[str, dict[str, Cell]] | None = None,
    *,
    run_id: str = "run-0001",
    litellm_version: str = "1.106.2",
    claude_code_version: str = "2.1.197",
    generated_at: datetime | None = None,
    providers: list[str] | None = None,
    upstreams: dict[str, str] | None = None,
    report: dict | None = None,
    gateway_profile: dict | None = None,
    gateway: dict | None = None,
) -> Matrix:
    """`upstreams` ({provider: emulator|real|mixed|unknown}) defaults to REAL's columns real, the rest emulated;
    `report` defaults to the run report the chord callback would write for these cells; `gateway_profile`
    ({name, settings}) is left out unless given (as in documents older than the field)."""
    if cells is None:
        cells = every_status_cells()
    providers = providers or sorted({p for row in cells.values() for p in row}, key=_provider_order)
    upstreams = upstreams or {}
    if report is None:
        report = sample_report(cells)
    return Matrix(
        generated_at=generated_at or datetime.now(timezone.utc),
        run_id=run_id,
        litellm_version=litellm_version,
        claude_code_version=claude_code_version,
        providers=providers,
        provider_names={p: NAMES.get(p, p) for p in providers},
        providers_detail={p: ProviderDetail(upstream=upstreams.get(p, "real" if p in REAL else "emulator"),
                                            name=NAMES.get(p, p), models=column_models(p)) for p in providers},
        tiers=TIERS,
        tier_models=sample_tier_models(),
        gateway_profile=gateway_profile,
        gateway=GatewayRecord(**gateway) if gateway else None,
        features=[
            FeatureRow(id=fid, name=fid.replace("_", " ").capitalize(), providers=row) for fid, row in cells.items()
        ],
        report=report,
    )


def sample_report(cells: dict[str, dict[str, Cell]]) -> dict:
    results = [CellResult(feature=fid, provider=p, status=c.status, tiers=c.tiers)
               for fid, row in cells.items() for p, c in row.items()]
    return {"counts": dict(Counter(c.status.value for c in results)), "problems": [], **cause_report(results)}


def _provider_order(p: str) -> int:
    return PROVIDERS.index(p) if p in PROVIDERS else len(PROVIDERS)


def every_status_cells() -> dict[str, dict[str, Cell]]:
    gap = ("emulator gap: POST /model/claude-opus/invoke (501): the emulator does not know the field "
           "'output_config.effort'")
    failing = {
        "haiku": tier("fail", error="expected PONG, got 'API Error: 500'", duration_ms=1000),
        "sonnet": tier("fail", error="expected PONG, got 'API Error: 500'", duration_ms=1001),
        # the emulator could not judge this request: not the gateway's fault, not a verdict either
        "opus": tier("error", error=gap, cause="emulator_gap", duration_ms=1002, upstream_calls=[UpstreamCall(
            method="POST", path="/model/claude-opus/invoke", status=501, cause="emulator_gap",
            reason="the emulator does not know the field 'output_config.effort'")]),
    }
    return {
        "basic_messaging": {
            FIRST: cell("pass"),
            SECOND: cell("fail", error="haiku: expected PONG, got 'API Error: 500'", tiers=failing),
            FOURTH: cell("error", error="proxy did not boot within 120 s", emulated=False),
        },
        "streaming": {
            FIRST: cell(
                "pass",
                fidelity={
                    "records": [
                        {"path": "body.max_tokens", "kind": "changed", "before": 32000, "after": 4096,
                         "status": "lossy", "rule": "clamp", "reason": "provider maximum"}
                    ]
                },
            ),
            SECOND: cell("not_applicable", reason="no streaming on this route", tiers={}),
            FOURTH: cell("not_tested", reason="quota exhausted before this cell ran", tiers={}),
        },
    }


def old(hours: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(hours=hours)


ERROR_CAUSES = ["provider", "infrastructure", "emulator_gap", "client"]


def wide_matrix(**kw) -> Matrix:
    """Every provider column and several rows: wider than a phone screen."""
    statuses = ["pass", "fail", "error", "not_applicable", "not_tested"]
    cells = {}
    for i, feature in enumerate(["basic_messaging_non_streaming", "streaming_text", "tool_use_round_trip",
                                 "extended_thinking", "prompt_caching", "image_input"]):
        row = {}
        for j, provider in enumerate(PROVIDERS):
            status = statuses[(i + j) % len(statuses)]
            row[provider] = cell(
                status,
                error=f"{provider}: example {status}" if status in ("fail", "error") else None,
                reason=f"{provider}: example {status}" if status in ("not_applicable", "not_tested") else None,
                cause=ERROR_CAUSES[i % len(ERROR_CAUSES)] if status == "error" else None,
                emulated=provider not in REAL,
            )
        cells[feature] = row
    return matrix(cells, **kw)


# A run of three gateways (issue 17): the statuses differ per gateway so the comparison has something to show.
GATEWAYS = [
    {"name": "litellm", "display_name": "LiteLLM", "version": "1.106.2", "profile": "recommended"},
    {"name": "portkey", "display_name": "Portkey", "version": "1.15.2", "profile": "defaults"},
    {"name": "claude-code-router", "display_name": "claude-code-router", "version": "2.0.0", "profile": "defaults"},
]


def gateways_run(run_id: str = "run-gateways", generated_at: datetime | None = None) -> list[Matrix]:
    """The matrices of one run through the three gateways of GATEWAYS, in that order: LiteLLM passes everything,
    Portkey fails tool use on the second column, claude-code-router has no route to the second column."""
    generated_at = generated_at or datetime.now(timezone.utc)
    rows = ["basic_messaging", "tool_use"]
    plans = {
        "litellm": {r: {FIRST: cell("pass"), SECOND: cell("pass")} for r in rows},
        "portkey": {"basic_messaging": {FIRST: cell("pass"), SECOND: cell("pass")},
                    "tool_use": {FIRST: cell("pass"), SECOND: cell("fail", error="haiku: the tool call was dropped")}},
        "claude-code-router": {r: {FIRST: cell("pass" if r == "basic_messaging" else "error",
                                               error=None if r == "basic_messaging" else "proxy did not boot"),
                                   SECOND: cell("not_applicable", reason="claude-code-router has no route to this "
                                                                         "provider", tiers={})} for r in rows},
    }
    out = []
    for gateway in GATEWAYS:
        profile = {"name": gateway["profile"], "settings": {}}
        out.append(matrix(plans[gateway["name"]], run_id=run_id, litellm_version=gateway["version"],
                          generated_at=generated_at, gateway_profile=profile, gateway=gateway))
    return out
