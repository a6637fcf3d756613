"""Celery task for one (feature, provider) cell, registered on the app of the leaf module ccmatrix.celery_app.

It never raises into the chord.
"""
from __future__ import annotations

from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_process_shutdown

from ccmatrix.celery_app import app
from ccmatrix.contract import RUN_CELL_TASK, CellJob, CellOutcome
from ccmatrix.outcomes import TierResult
from worker.cell import run_cell, time_limit_outcome

__all__ = ["run_cell_task", "time_limit_outcome"]


@app.task(name=RUN_CELL_TASK, bind=True, acks_late=True, reject_on_worker_lost=True)
def run_cell_task(self, job: dict) -> dict:
    try:
        parsed = CellJob.model_validate(job)
    except Exception as error:
        tiers = {t: TierResult.errored(f"bad job: {error}"[:800]) for t in job.get("tiers", ["?"])}
        return CellOutcome.from_tiers(str(job.get("feature")), str(job.get("provider")), tiers).model_dump(mode="json")
    try:
        return run_cell(parsed).model_dump(mode="json")
    except SoftTimeLimitExceeded:
        # run_cell answers its own time limit (keeping finished tiers); this is the fallback for a limit that
        # struck outside it, e.g. while it was building its answer. Same words, every tier unfinished.
        return time_limit_outcome(parsed).model_dump(mode="json")


@worker_process_shutdown.connect
def _stop_environments(**_) -> None:
    from worker.environment import shutdown_all

    shutdown_all()
