"""The job contract: what the producer sends a worker for one (feature, provider) cell and what comes back.

The only thing producer/ and worker/ share. A leaf module: it imports the outcome types and pydantic, nothing from
producer/ or worker/ (tests/unit/core/test_layering.py holds it to that).
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ccmatrix.outcomes import CellResult, TierResult, cell_from_tiers

# Tasks are sent by name, so the producer never imports the worker's code (and the worker never the producer's).
RUN_CELL_TASK = "ccmatrix.run_cell"  # one cell: CellJob (as JSON) → CellOutcome (as JSON)
FINISH_RUN_TASK = "ccmatrix.finish_run"  # the chord callback: [CellOutcome, ...] + the run's plan → a summary


class CellJob(BaseModel):
    run_id: str
    feature: str
    provider: str
    tiers: list[str]
    litellm_version: str
    claude_code_version: str
    manifest: dict[str, Any]
    faults: list[dict[str, Any]] = Field(default_factory=list)
    scenario: dict[str, Any] = Field(default_factory=dict)  # emulator scenario overrides (tests, debugging)
    proxy_params: dict[str, Any] = Field(default_factory=dict)  # extra litellm_params for every route (experiments)
    strict_fidelity: bool = False
    # The gateway profile (gateway_profiles/litellm.yaml) the proxy runs with; None: the worker's
    # CCMATRIX_GATEWAY_PROFILE (the producer always names one).
    gateway_profile: str | None = None
    # The gateway under test (issue 17: a plug-in under gateways/<name>/) and its release; gateway_version None means
    # litellm_version (the LiteLLM-only contract, kept valid for old producers).
    gateway: str = "litellm"
    gateway_version: str | None = None

    @property
    def gateway_release(self) -> str:
        """The release of the gateway under test."""
        return self.gateway_version or self.litellm_version

    @property
    def task_id(self) -> str:
        """The Celery task id of this cell's job (the producer follows the run by these ids); a run with several
        gateways has one job per (gateway, feature, provider), LiteLLM's keeping the LiteLLM-only form."""
        if self.gateway == "litellm":
            return f"{self.run_id}:{self.feature}:{self.provider}"
        return f"{self.run_id}:{self.gateway}:{self.feature}:{self.provider}"


class CellOutcome(CellResult):
    litellm_version: str | None = None
    claude_code_version: str | None = None
    upstream: str | None = None  # "emulator" | "real": how this cell's provider column ran
    gateway_profile: dict[str, Any] | None = None  # {name, settings}: the gateway profile the proxy ran with
    gateway: str = "litellm"  # the gateway under test (CellJob.gateway)
    gateway_version: str | None = None  # its release (None: litellm_version)
    # {package: version} of the code that judged this cell's requests in the worker's emulator (ccmatrix/strictness.py);
    # None for a real-provider column or a worker older than the field
    emulator_strictness: dict[str, str] | None = None

    @classmethod
    def from_tiers(cls, feature: str, provider: str, tiers: dict[str, TierResult], **kw: Any) -> "CellOutcome":
        """Aggregate tier results into a cell (see ccmatrix.outcomes.aggregate); `kw` sets the other fields."""
        return cls(**cell_from_tiers(feature, provider, tiers).model_dump(), **kw)
