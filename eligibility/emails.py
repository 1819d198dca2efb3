"""Outbox handlers: the crisis alert, the notice of a screening to review,
and the decision e-mailed to the client. Staff e-mails carry no answers:
only a link behind sign-in and two-factor authentication."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from clinic import outbox
from clinic.context_processors import site_name
from clinic.models import CLINICAL_ROLES, StaffProfile

from . import services
from .models import Decision, Screening


def _clinicians(clinic):
    """The clinic's active therapists and medical practitioners."""
    return StaffProfile.objects.filter(
        clinics=clinic, role__in=CLINICAL_ROLES, user__is_active=True
    ).select_related("user")


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
    """One row per person to tell (or the clinic's inbox when no clinician
    is on file), so one failed e-mail never re-sends the others."""
    screening = _screening(message)
    if screening is None:
        return False
    people = list(
        _clinicians(screening.clinic).order_by("user_id").values_list("user_id", flat=True)
    )
    for person in people or [None]:
        outbox.enqueue_from_handler(
            kind=kind,
            key=f"{message.key}:{person or 'clinic'}",
            payload={**message.payload, "person": person},
        )
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
        # Still a clinician of the clinic when the e-mail goes.
        profile = _clinicians(screening.clinic).filter(user_id=person_id).first()
        if profile is None:
            return False
        person = profile.user
    url = settings.SITE_URL + reverse("admin:eligibility_screening_change", args=[screening.pk])
    with translation.override(person.preferred_language):
        context = {"clinic": screening.clinic, "url": url, "site_name": site_name()}
        subject = render_to_string(f"eligibility/email/{template}_subject.txt", context).strip()
        body = render_to_string(f"eligibility/email/{template}_body.txt", context)
    EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, [person.email]).send()
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
    with translation.override(user.preferred_language):
        context = {
            "decision": decision,
            "user": user,
            "clinic": decision.screening.clinic,
            "site_name": site_name(),
            "portal_url": settings.SITE_URL + reverse("portal:home"),
            "screener_url": settings.SITE_URL + reverse("eligibility:screener"),
            "portal_screening_url": settings.SITE_URL + reverse("eligibility:submitted"),
        }
        subject = render_to_string("eligibility/email/decision_subject.txt", context).strip()
        body = render_to_string("eligibility/email/decision_body.txt", context)
    EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email]).send()
    return True
