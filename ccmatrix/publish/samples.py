"""Sample matrices built from the real models: for the tests and for previewing the page (never hand-typed JSON)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ccmatrix.matrix import Cell, FeatureRow, Matrix, TierDetail
from ccmatrix.outcomes import Evidence, Status, UpstreamCall

PROVIDERS = ["anthropic", "bedrock_invoke", "bedrock_converse", "vertex_ai", "azure"]
NAMES = {
    "anthropic": "Anthropic",
    "bedrock_invoke": "Bedrock (Invoke)",
    "bedrock_converse": "Bedrock (Converse)",
    "vertex_ai": "Vertex AI",
    "azure": "Azure AI Foundry",
}
TIERS = ["haiku", "sonnet", "opus"]


def cell(status: str, *, error: str | None = None, reason: str | None = None, fidelity=None, tiers=None) -> Cell:
    status = Status(status)
    if tiers is None:
        tiers = {
            t: TierDetail(
                status=status,
                error=error,
                reason=reason,
                duration_ms=1000 + i,
                evidence=Evidence(
                    result_text="PONG" if status == Status.PASS else "API Error: 500",
                    api_error_status=None if status == Status.PASS else 500,
                    upstream_calls=[UpstreamCall(method="POST", path="/v1/messages", status=200)],
                    assertion=None if status == Status.PASS else "result_text == 'PONG'",
                    findings=["egress blocked: example.com:443"] if status == Status.ERROR else [],
                ),
            )
            for i, t in enumerate(TIERS)
        }
    return Cell(status=status, error=error, reason=reason, tiers=tiers, fidelity=fidelity)


def matrix(
    cells: dict[str, dict[str, Cell]] | None = None,
    *,
    run_id: str = "run-0001",
    litellm_version: str = "1.106.2",
    claude_code_version: str = "2.1.197",
    generated_at: datetime | None = None,
    providers: list[str] | None = None,
) -> Matrix:
    if cells is None:
        cells = every_status_cells()
    providers = providers or sorted({p for row in cells.values() for p in row}, key=_provider_order)
    return Matrix(
        generated_at=generated_at or datetime.now(timezone.utc),
        run_id=run_id,
        litellm_version=litellm_version,
        claude_code_version=claude_code_version,
        providers=providers,
        provider_names={p: NAMES.get(p, p) for p in providers},
        tiers=TIERS,
        features=[
            FeatureRow(id=fid, name=fid.replace("_", " ").capitalize(), providers=row) for fid, row in cells.items()
        ],
    )


def _provider_order(p: str) -> int:
    return PROVIDERS.index(p) if p in PROVIDERS else len(PROVIDERS)


def every_status_cells() -> dict[str, dict[str, Cell]]:
    return {
        "basic_messaging": {
            "anthropic": cell("pass"),
            "bedrock_invoke": cell("fail", error="haiku: expected PONG, got 'API Error: 500'"),
            "vertex_ai": cell("error", error="proxy did not boot within 120 s"),
        },
        "streaming": {
            "anthropic": cell(
                "pass",
                fidelity={
                    "records": [
                        {"path": "body.max_tokens", "kind": "changed", "before": 32000, "after": 4096,
                         "status": "lossy", "rule": "clamp", "reason": "provider maximum"}
                    ]
                },
            ),
            "bedrock_invoke": cell("not_applicable", reason="no streaming on this route", tiers={}),
            "vertex_ai": cell("not_tested", reason="no credentials for vertex_ai", tiers={}),
        },
    }


def old(hours: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(hours=hours)


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
            )
        cells[feature] = row
    return matrix(cells, **kw)
