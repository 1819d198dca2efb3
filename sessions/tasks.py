"""Celery tasks of the prepare and dosing app (scheduled by beat in
config/settings.py, CELERY_BEAT_SCHEDULE). Each calls one service and is
safe to run twice at once or again after a failure."""

from celery import shared_task

from .services import recordings


@shared_task(ignore_result=False)
def recordings_retention() -> dict:
    """Queue for deletion the recordings past their retention date."""
    return {"queued": recordings.recordings_queue_expired()}


@shared_task(ignore_result=False)
def recordings_delete() -> dict:
    """Delete the files of the recordings queued for deletion."""
    result = recordings.recordings_delete_due()
    return {"deleted": result.deleted, "failed": result.failed}
