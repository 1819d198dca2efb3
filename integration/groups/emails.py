"""E-mails of integration groups, sent through the outbox in the client's
language: a place came free and is now theirs, or a smaller group moved
them back to the waitlist."""

from django.urls import reverse
from django.utils import timezone

from clinic import outbox
from clinic.emails import absolute, send_templated
from clinic.formatting import local_when
from clinic.models import Appointment, OutboxMessage

from .models import Enrolment
from .services import PROMOTED, WAITLISTED, waitlist_position


def _send(message: OutboxMessage, *, status: str, template: str) -> bool:
    enrolment = (
        Enrolment.objects.filter(uuid=message.payload["enrolment"], status=status)
        .select_related("group__clinic", "client__user")
        .first()
    )
    if enrolment is None or not enrolment.client.user.is_active:
        return False  # left again, or moved on, before the e-mail went out
    user = enrolment.client.user
    group = enrolment.group

    def context() -> dict:
        upcoming = (
            Appointment.objects.filter(
                group_meeting__group=group,
                status=Appointment.Status.BOOKED,
                start__gt=timezone.now(),
            )
            .order_by("start")
            .first()
        )
        return {
            "user": user,
            "group": group,
            "next_meeting": local_when(upcoming.start, group.clinic) if upcoming else "",
            "position": waitlist_position(enrolment),
            "url": absolute(reverse("groups:portal_list")),
        }

    send_templated(
        to=user.email, language=user.preferred_language, template=template, context=context
    )
    return True


@outbox.handler(PROMOTED)
def send_promoted(message: OutboxMessage) -> bool:
    return _send(message, status=Enrolment.Status.ENROLLED, template="integration/email/promoted")


@outbox.handler(WAITLISTED)
def send_waitlisted(message: OutboxMessage) -> bool:
    return _send(
        message, status=Enrolment.Status.WAITLISTED, template="integration/email/waitlisted"
    )
