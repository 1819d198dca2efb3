from celery import shared_task

from .outbox import outbox_sweep as sweep


@shared_task(ignore_result=False)
def outbox_sweep() -> dict:
    """Beat runs this every few seconds; it does whatever outbox work is due."""
    result = sweep()
    return {
        "sent": result.sent,
        "skipped": result.skipped,
        "retried": result.retried,
        "failed": result.failed,
    }
