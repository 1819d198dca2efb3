from celery import shared_task

from . import services


@shared_task(ignore_result=False)
def purge_expired_requests() -> dict:
    """Beat runs this every hour: booking requests and interest
    registrations whose e-mailed link has expired are forgotten."""
    result = services.expired_requests_purge()
    return {
        "booking_requests": result.booking_requests,
        "interest_registrations": result.interest_registrations,
    }
