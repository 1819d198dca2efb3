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


@shared_task
def access_log_seal() -> int:
    """Beat runs this every few seconds: the access-log entries written by
    requests since the last run are sealed into the chain (a second run at
    the same time returns at once)."""
    from .access_log import access_log_seal as seal

    return seal()


@shared_task
def access_log_checkpoint() -> int | None:
    """Beat runs this hourly: the head of the access log's chain goes to the
    append-only anchor file."""
    from .access_log import checkpoint_write

    checkpoint = checkpoint_write()
    return checkpoint.last_id if checkpoint else None


@shared_task
def access_log_partitions() -> list[str]:
    """Beat runs this daily: the access log's partitions for this month and
    the next ACCESS_LOG_PARTITIONS_AHEAD months exist."""
    from .access_log_partitions import partitions_ensure

    return partitions_ensure()
