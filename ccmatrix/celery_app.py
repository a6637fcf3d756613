"""The Celery app (Celery's own "proj/celery.py" layout): a leaf module that the producer and the worker both import.

`celery -A producer ...` finds it through producer/__init__.py. The task modules are named as strings in `include`,
so this module imports neither side; each registers its own tasks on `app` (tasks travel by name, see
ccmatrix.contract). Broker and result backend come from the settings.
"""
from __future__ import annotations

import sys

from celery import Celery

import ccmatrix  # noqa: F401  (sets the offline switches before anything imports litellm)
from ccmatrix.settings import get_settings

DEFAULT_URL = "redis://127.0.0.1:6379/0"
TASK_MODULES = ["worker.tasks", "producer.callback"]  # loaded by a worker; never imported from here


def time_limits(limit_s: int, grace_s: int) -> tuple[int, int, int]:
    """(soft, hard, visibility timeout) in seconds for a job time limit and its grace.

    The soft limit is the job's limit: the job stops there and reports its unfinished tiers. The hard limit (the
    process is killed) comes `grace_s` later. A message stays unacknowledged while its job runs (acks_late), so the
    broker's visibility timeout must outlast the hard limit by far, or a running job would be delivered twice.
    """
    soft = max(1, int(limit_s))
    hard = soft + max(1, int(grace_s))
    return soft, hard, max(3600, 2 * hard)


def make_app(broker: str | None = None, backend: str | None = None) -> Celery:
    settings = get_settings()
    soft_limit, hard_limit, visibility = time_limits(settings.job_time_limit_s, settings.job_time_limit_grace_s)
    broker = broker or settings.broker_url or DEFAULT_URL
    backend = backend or settings.result_backend or broker
    app = Celery("ccmatrix", broker=broker, backend=backend, include=list(TASK_MODULES))
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,  # a lost worker's job is redelivered...
        task_reject_on_worker_lost=True,  # ...also when the process dies mid-job
        worker_prefetch_multiplier=1,  # long jobs: never hoard them
        task_soft_time_limit=soft_limit,  # the job stops, keeps its finished tiers and errors the rest
        task_time_limit=hard_limit,  # the process is killed: only if the soft limit could not stop the job
        result_expires=7 * 24 * 3600,
        task_track_started=True,
        worker_send_task_events=True,  # Flower
        task_send_sent_event=True,
        broker_transport_options={"visibility_timeout": visibility},
        result_backend_transport_options={"visibility_timeout": visibility},
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_concurrency=settings.worker_concurrency,  # sized by ccmatrix/sizing.py unless set (cores, memory, latency)
    )
    return app


try:
    app = make_app()
except ValueError as error:  # ccmatrix.settings.SettingsError: one line, not an import traceback (celery -A ...)
    sys.stderr.write(f"ccmatrix: {error}\n")
    raise SystemExit(2) from None
