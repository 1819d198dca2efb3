"""Outbox handlers: the invitation e-mailed to the client, and the crisis
alert fanned out to the clinic's clinicians (as the screener's is: one row
per clinician, no answers in the e-mail, only a link behind sign-in)."""

from datetime import datetime

from django.urls import reverse
from django.utils import timezone

from clinic import outbox
from clinic.emails import absolute, send_templated
from clinic.formatting import local_when
from clinic.models import CLINICAL_ROLES, Appointment, StaffProfile, User
from clinic.permissions import is_clinician_of

from . import services
from .models import MeasureInvitation


def _invitation(message) -> MeasureInvitation | None:
    return (
        MeasureInvitation.objects.select_related(
            "client__user", "course__clinic", "appointment", "client__clinic"
        )
        .filter(uuid=message.payload["invitation"])
        .first()
    )


@outbox.handler(services.INVITATION_EMAIL)
def send_invitation(message) -> bool:
    invitation = _invitation(message)
    now = timezone.now()
    if (
        invitation is None
        or invitation.answered_at is not None
        or invitation.expires_at <= now
        # Re-timed since (a moved session): the row queued for the new time sends it.
        or invitation.opens_at != datetime.fromisoformat(message.payload["opens_at"])
        or not invitation.client.user.is_active
    ):
        return False
    appointment = invitation.appointment
    if appointment is not None and appointment.status != Appointment.Status.BOOKED:
        return False
    user = invitation.client.user
    clinic = invitation.course.clinic
    send_templated(
        to=user.email,
        language=user.preferred_language,
        template="integration/measures/email/invitation",
        context=lambda: {
            "user": user,
            "clinic": clinic,
            "invitation": invitation,
            "session_when": local_when(appointment.start, clinic) if appointment else "",
            "until": local_when(invitation.expires_at, clinic),
            "url": absolute(reverse("measures:answer", args=[invitation.uuid])),
        },
    )
    return True


@outbox.handler(services.CRISIS_ALERT)
def fan_out_crisis_alert(message) -> bool:
    invitation = _invitation(message)
    if invitation is None:
        return False
    people = list(
        StaffProfile.objects.filter(
            clinics=invitation.course.clinic, role__in=CLINICAL_ROLES, user__is_active=True
        )
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )
    outbox.fan_out(message, kind=services.CRISIS_ALERT_ONE, people=people or [None])
    return True


@outbox.handler(services.CRISIS_ALERT_ONE)
def send_crisis_alert(message) -> bool:
    invitation = _invitation(message)
    if invitation is None:
        return False
    clinic = invitation.course.clinic
    person_id = message.payload["person"]
    if person_id is None:
        to, language = clinic.email, ("fr" if clinic.province == "QC" else "en")
    else:
        person = (
            User.objects.select_related("staff_profile")
            .filter(pk=person_id, is_active=True)
            .first()
        )
        if person is None or not is_clinician_of(person, clinic.pk):
            return False
        to, language = person.email, person.preferred_language
    send_templated(
        to=to,
        language=language,
        template="integration/measures/email/crisis_alert",
        context={
            "clinic": clinic,
            "url": absolute(reverse("measures:staff_chart", args=[invitation.client.uuid])),
        },
    )
    return True
