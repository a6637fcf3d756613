"""Submit a planned run as a chord and (optionally) follow it to the end."""
from __future__ import annotations

import sys
import time
from typing import Callable

from producer.plan import RunPlan, build_chord


def submit(plan: RunPlan, app):
    signature = build_chord(plan, app)
    return signature.apply_async()


def cell_task_ids(plan: RunPlan) -> list[str]:
    return [job.task_id for job in plan.jobs]


def wait(plan: RunPlan, app, result, on_progress: Callable[[int, int], None] | None = None,
         timeout: float | None = None, poll_s: float = 1.0, alive: Callable[[], str | None] | None = None) -> dict:
    """Block until the callback finishes; report (cells done, total) as cells complete."""
    ids = cell_task_ids(plan)
    started = time.monotonic()
    last = -1
    try:
        while True:
            done = sum(1 for task_id in ids if app.AsyncResult(task_id).ready())
            if done != last and on_progress:
                on_progress(done, len(ids))
                last = done
            if result.ready():
                outcome = result.result  # read the stored meta; no pub/sub subscription left behind
                if result.successful() and isinstance(outcome, dict):
                    return outcome
                return {"run_id": plan.run_id, "published": False, "reason": f"the callback failed: {outcome!r}"}
            if timeout is not None and time.monotonic() - started > timeout:
                return {"run_id": plan.run_id, "published": False, "reason": f"gave up waiting after {timeout:.0f} s"}
            problem = alive() if alive else None  # e.g. the local worker died: nothing will ever finish the run
            if problem:
                return {"run_id": plan.run_id, "published": False, "reason": problem}
            time.sleep(poll_s)
    finally:  # also on Ctrl-C: unsubscribe while the broker is still up
        _release(app, [result.id, *ids])


def progress_bar(stream=sys.stderr) -> Callable[[int, int], None]:
    def show(done: int, total: int) -> None:
        width = 30
        filled = int(width * done / total) if total else width
        stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} cells")
        if done == total:
            stream.write("\n")
        stream.flush()

    return show


def _release(app, task_ids: list[str]) -> None:
    """Unsubscribe from the results' pub/sub channels now, while the broker is still up (not at interpreter exit)."""
    consumer = getattr(app.backend, "result_consumer", None)
    if consumer is None or not hasattr(consumer, "cancel_for"):
        return
    for task_id in task_ids:
        try:
            consumer.cancel_for(task_id)
        except Exception:
            pass
