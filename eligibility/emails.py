"""Outbox handlers: the crisis alert, the notice of a screening to review,
and the decision e-mailed to the client. Staff e-mails carry no answers:
only a link behind sign-in and two-factor authentication."""

from django.urls import reverse

from clinic import outbox
from clinic.emails import absolute, send_templated
from clinic.models import CLINICAL_ROLES, StaffProfile, User
from clinic.permissions import is_clinician_of

from . import services
from .models import Decision, Screening


class _ClinicInbox:
    """The clinic's own address, when no clinician is on file to alert."""

    def __init__(self, clinic):
        self.email = clinic.email
        self.preferred_language = "fr" if clinic.province == "QC" else "en"


def _screening(message) -> Screening | None:
    return (
        Screening.objects.select_related("clinic").filter(uuid=message.payload["screening"]).first()
    )


def _fan_out(message, kind: str) -> bool:
    """One row per clinician of the clinic (or its inbox when none is on file)."""
    screening = _screening(message)
    if screening is None:
        return False
    people = list(
        StaffProfile.objects.filter(
            clinics=screening.clinic, role__in=CLINICAL_ROLES, user__is_active=True
        )
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )
    outbox.fan_out(message, kind=kind, people=people or [None])
    return True


def _send_staff(message, template: str) -> bool:
    """One staff e-mail: no answers, only a link behind sign-in."""
    screening = _screening(message)
    if screening is None:
        return False
    person_id = message.payload["person"]
    if person_id is None:
        person = _ClinicInbox(screening.clinic)
    else:
        person = (
            User.objects.select_related("staff_profile")
            .filter(pk=person_id, is_active=True)
            .first()
        )
        # Still a clinician of the clinic when the e-mail goes.
        if person is None or not is_clinician_of(person, screening.clinic_id):
            return False
    send_templated(
        to=person.email,
        language=person.preferred_language,
        template=f"eligibility/email/{template}",
        context={
            "clinic": screening.clinic,
            "url": absolute(reverse("admin:eligibility_screening_change", args=[screening.pk])),
        },
    )
    return True


@outbox.handler(services.CRISIS_ALERT)
def fan_out_crisis_alert(message) -> bool:
    return _fan_out(message, services.CRISIS_ALERT_ONE)


@outbox.handler(services.CRISIS_ALERT_ONE)
def send_crisis_alert(message) -> bool:
    return _send_staff(message, "crisis_alert")


@outbox.handler(services.SUBMITTED_NOTICE)
def fan_out_submitted_notice(message) -> bool:
    return _fan_out(message, services.SUBMITTED_NOTICE_ONE)


@outbox.handler(services.SUBMITTED_NOTICE_ONE)
def send_submitted_notice(message) -> bool:
    return _send_staff(message, "submitted")


@outbox.handler(services.DECISION_EMAIL)
def send_decision(message) -> bool:
    decision = (
        Decision.objects.select_related("screening__clinic", "screening__course__client__user")
        .filter(pk=message.payload["decision"])
        .first()
    )
    if decision is None:
        return False
    user = decision.screening.course.client.user
    send_templated(
        to=user.email,
        language=user.preferred_language,
        template="eligibility/email/decision",
        context={
            "decision": decision,
            "user": user,
            "clinic": decision.screening.clinic,
            "portal_url": absolute(reverse("portal:home")),
            "screener_url": absolute(reverse("eligibility:screener")),
            "portal_screening_url": absolute(reverse("eligibility:submitted")),
        },
    )
    return True
