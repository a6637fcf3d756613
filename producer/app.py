"""The Celery app (`celery -A producer ...`). Broker and result backend come from the settings."""
from __future__ import annotations

from celery import Celery

import ccmatrix  # noqa: F401  (sets the offline switches before anything imports litellm)
from ccmatrix.settings import get_settings

DEFAULT_URL = "redis://127.0.0.1:6379/0"


def make_app(broker: str | None = None, backend: str | None = None) -> Celery:
    settings = get_settings()
    broker = broker or settings.broker_url or DEFAULT_URL
    backend = backend or settings.result_backend or broker
    app = Celery("ccmatrix", broker=broker, backend=backend, include=["worker.tasks", "producer.callback"])
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,  # a lost worker's job is redelivered...
        task_reject_on_worker_lost=True,  # ...also when the process dies mid-job
        worker_prefetch_multiplier=1,  # long jobs: never hoard them
        task_time_limit=settings.job_time_limit_s,
        task_soft_time_limit=max(60, settings.job_time_limit_s - 60),
        result_expires=7 * 24 * 3600,
        task_track_started=True,
        worker_send_task_events=True,  # Flower
        task_send_sent_event=True,
        broker_transport_options={"visibility_timeout": settings.job_time_limit_s * 2},
        result_backend_transport_options={"visibility_timeout": settings.job_time_limit_s * 2},
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_concurrency=settings.worker_concurrency,  # about the number of cores: a CLI run is CPU-bound
    )
    return app


app = make_app()
