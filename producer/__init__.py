"""The producer: the Celery app, found by `celery -A producer`, and the `enqueue` subcommand."""
from producer.app import app

celery = app

__all__ = ["app", "celery"]
