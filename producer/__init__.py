"""The producer: plans a run, enqueues it as a chord, and (its callback) builds and publishes the matrix.

`celery -A producer ...` finds the Celery app here; the app itself lives in the leaf module ccmatrix.celery_app.
"""
from ccmatrix.celery_app import app

celery = app

__all__ = ["app", "celery"]
