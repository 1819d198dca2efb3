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
    return [
        p.user
        for p in StaffProfile.objects.filter(
            clinics=clinic, role__in=CLINICAL_ROLES, user__is_active=True
        ).select_related("user")
    ]


class _ClinicInbox:
    """The clinic's own address, when no clinician is on file to alert."""

    def __init__(self, clinic):
        self.email = clinic.email
        self.preferred_language = "fr" if clinic.province == "QC" else "en"


def _send_staff(screening: Screening, template: str) -> None:
    url = settings.SITE_URL + reverse("admin:eligibility_screening_change", args=[screening.pk])
    for person in _clinicians(screening.clinic) or [_ClinicInbox(screening.clinic)]:
        with translation.override(person.preferred_language):
            context = {"clinic": screening.clinic, "url": url, "site_name": site_name()}
            subject = render_to_string(f"eligibility/email/{template}_subject.txt", context).strip()
            body = render_to_string(f"eligibility/email/{template}_body.txt", context)
        EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, [person.email]).send()


@outbox.handler(services.CRISIS_ALERT)
def send_crisis_alert(message) -> bool:
    screening = (
        Screening.objects.select_related("clinic").filter(uuid=message.payload["screening"]).first()
    )
    if screening is None:
        return False
    _send_staff(screening, "crisis_alert")
    return True


@outbox.handler(services.SUBMITTED_NOTICE)
def send_submitted_notice(message) -> bool:
    screening = (
        Screening.objects.select_related("clinic").filter(uuid=message.payload["screening"]).first()
    )
    if screening is None:
        return False
    _send_staff(screening, "submitted")
    return True


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
