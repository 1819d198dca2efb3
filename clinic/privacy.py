"""A client's rights over their information (PIPEDA, Quebec Law 25): the
optional uses they allow, and their requests to close the account."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .models import AccountClosureRequest, ClientProfile

# The same reason sent again this soon is the same request (a double click,
# a refresh), not a second one.
RESEND_WINDOW = timedelta(minutes=10)


def client_sharing_set(*, client: ClientProfile, research: bool, marketing: bool) -> None:
    ClientProfile.objects.filter(pk=client.pk).update(
        share_for_research=research, share_for_marketing=marketing
    )


def account_closure_request(
    *, client: ClientProfile, reason: str = ""
) -> tuple[AccountClosureRequest, bool]:
    """Ask to close the account. Every request is kept with its own reason,
    so nothing a client wrote is lost when they ask again; the same request
    sent twice (a double submit) is recorded once. Returns the request and
    whether it is new."""
    reason = reason.strip()[:5000]
    with transaction.atomic():
        # The client's row is the lock: two submits at once cannot both be new.
        ClientProfile.objects.select_for_update().filter(pk=client.pk).first()
        repeat = AccountClosureRequest.objects.filter(
            client=client,
            status=AccountClosureRequest.Status.OPEN,
            reason=reason,
            requested_at__gte=timezone.now() - RESEND_WINDOW,
        ).first()
        if repeat is not None:
            return repeat, False
        request = AccountClosureRequest(client=client, reason=reason)
        request.full_clean()
        request.save()
    return request, True
