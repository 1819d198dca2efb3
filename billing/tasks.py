"""Billing's Celery tasks (scheduled by beat in config/settings.py,
CELERY_BEAT_SCHEDULE). Each calls one service and is safe to run twice at once."""

from celery import shared_task

from .statements import statement_jobs_run


@shared_task(ignore_result=False)
def statements_build() -> dict:
    """Build the year-end statements asked for (StatementJob rows)."""
    return {"jobs": statement_jobs_run()}
