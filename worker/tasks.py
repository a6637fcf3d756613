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
        # run_cell answers its own time limit (keeping finished tiers); this is the fallback for a limit that
        # struck outside it, e.g. while it was building its answer. Same words, every tier unfinished.
        return time_limit_outcome(parsed).model_dump(mode="json")


def time_limit_outcome(job: CellJob) -> CellOutcome:
    from ccmatrix.settings import get_settings
    from worker.cell import _upstream_of

    settings = get_settings()
    limit = settings.job_time_limit_s
    reason = f"time limit: the job did not finish within its {limit} s limit (this tier never completed)"
    cell = CellOutcome(**cell_from_tiers(job.feature, job.provider,
                                         {t: TierResult.errored(reason) for t in job.tiers}).model_dump())
    cell.upstream = _upstream_of(job, settings)
    return cell


@worker_process_shutdown.connect
def _stop_environments(**_) -> None:
    from worker.environment import shutdown_all

    shutdown_all()
