"""Compatibility name: the Celery app lives in the leaf module ccmatrix.celery_app (imported by both sides)."""
from ccmatrix.celery_app import DEFAULT_URL, app, make_app, time_limits

__all__ = ["DEFAULT_URL", "app", "make_app", "time_limits"]
