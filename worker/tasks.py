"""Celery task for one (feature, provider) cell. It never raises into the chord."""
from __future__ import annotations

from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_process_shutdown

from ccmatrix.outcomes import TierResult, cell_from_tiers
from producer.app import app
from worker.cell import CellJob, CellOutcome, run_cell


@app.task(name="ccmatrix.run_cell", bind=True, acks_late=True, reject_on_worker_lost=True)
def run_cell_task(self, job: dict) -> dict:
    try:
        parsed = CellJob.model_validate(job)
    except Exception as error:
        tiers = {t: TierResult.errored(f"bad job: {error}"[:800]) for t in job.get("tiers", ["?"])}
        return cell_from_tiers(str(job.get("feature")), str(job.get("provider")), tiers).model_dump(mode="json")
    try:
        return run_cell(parsed).model_dump(mode="json")
    except SoftTimeLimitExceeded:
        tiers = {t: TierResult.errored("timeout: the job hit its time limit") for t in parsed.tiers}
        cell = cell_from_tiers(parsed.feature, parsed.provider, tiers)
        return CellOutcome(**cell.model_dump()).model_dump(mode="json")


@worker_process_shutdown.connect
def _stop_environments(**_) -> None:
    from worker.environment import shutdown_all

    shutdown_all()
