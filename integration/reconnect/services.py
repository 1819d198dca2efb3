"""Closing the integration plan (the course moves to reconnect), and the
client's further-treatment request and contact opt-ins in reconnect."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from clinic import journey
from clinic.models import ClientProfile, Course, Stage, User
from clinic.outbox import outbox_enqueue
from clinic.permissions import is_clinician_of
from clinic.privacy import client_sharing_set
from eligibility.selectors import is_current, latest_screening

from .models import SUMMARY_MAX, ContactPreferences, FurtherTreatmentRequest, IntegrationPlan

FURTHER_TREATMENT_NOTICE = "reconnect.further_treatment"
FURTHER_TREATMENT_NOTICE_ONE = "reconnect.further_treatment.one"

MSG_CLINICIANS_ONLY = gettext_noop(
    "Only a therapist or a medical practitioner of this clinic can close the integration plan."
)
MSG_NOT_INTEGRATING = gettext_noop("This course is not in the integrate stage.")
MSG_SUMMARY_REQUIRED = gettext_noop("Please write a short summary of the integration.")
MSG_SUMMARY_LONG = gettext_noop("Keep the summary under %(max)s characters.")
MSG_ALREADY_CLOSED = gettext_noop("The integration plan of this course is already closed.")
MSG_NOT_RECONNECT = gettext_noop(
    "Further treatment can be requested once your course is in the reconnect stage."
)
MSG_COURSE_OPEN = gettext_noop("You already have a course in progress with the clinic.")
EVENT_PLAN_CLOSED = gettext_noop("The integration plan was closed (the summary is in the record).")


class ReconnectError(Exception):
    """`str()` is a sentence for the person."""


def plan_closed_guard(course: Course) -> list[str]:
    """Integrate -> reconnect needs the integration plan closed (registered
    in IntegrationConfig.ready)."""
    if IntegrationPlan.objects.filter(course=course).exists():
        return []
    return [_("The therapist closes the integration plan first.")]


def integration_plan_close(*, course: Course, actor: User, summary: str) -> IntegrationPlan:
    """A clinician of the clinic closes the integration plan with a short
    summary, kept in the record; the course moves on to reconnect. Once per
    course (the course's lock, then the one-to-one as the last line)."""
    summary = summary.strip()
    if not is_clinician_of(actor, course.clinic_id):
        raise ReconnectError(_(MSG_CLINICIANS_ONLY))
    if not summary:
        raise ReconnectError(_(MSG_SUMMARY_REQUIRED))
    if len(summary) > SUMMARY_MAX:
        raise ReconnectError(_(MSG_SUMMARY_LONG) % {"max": SUMMARY_MAX})
    try:
        with transaction.atomic():
            locked = Course.objects.select_for_update().get(pk=course.pk)
            if IntegrationPlan.objects.filter(course=locked).exists():
                raise ReconnectError(_(MSG_ALREADY_CLOSED))
            if locked.stage != Stage.INTEGRATE:
                raise ReconnectError(_(MSG_NOT_INTEGRATING))
            plan = IntegrationPlan(course=locked, summary=summary, closed_by=actor)
            plan.full_clean(exclude=["course", "closed_by"], validate_unique=False)
            plan.save()
            advance = journey.course_advance(course=locked, cause=_(EVENT_PLAN_CLOSED), by=actor)
            if not advance.moved:
                raise ReconnectError(" ".join(advance.unmet))
    except IntegrityError as exc:
        raise ReconnectError(_(MSG_ALREADY_CLOSED)) from exc
    course.refresh_from_db()
    return plan


def further_treatment_request(*, client: ClientProfile) -> tuple[FurtherTreatmentRequest, bool]:
    """The client in reconnect asks for further treatment: a new course opens
    in connect (the portal then asks for a new screening when the last one
    is no longer current) and the care team is told. A double submit finds
    the request already made. Returns (request, whether it is new)."""
    with transaction.atomic():
        ClientProfile.objects.select_for_update().filter(pk=client.pk).first()
        course = (
            Course.objects.filter(client=client).select_related("clinic").order_by("-opened_at")
        ).first()
        if course is not None:
            existing = FurtherTreatmentRequest.objects.filter(from_course=course).first()
            if existing is None:
                existing = FurtherTreatmentRequest.objects.filter(new_course=course).first()
            if existing is not None:
                return existing, False
        if course is None or course.stage != Stage.RECONNECT:
            raise ReconnectError(_(MSG_NOT_RECONNECT))
        try:
            new_course = journey.course_open(client=client, actor=client.user, clinic=course.clinic)
        except journey.JourneyError as exc:
            raise ReconnectError(_(MSG_COURSE_OPEN)) from exc
        screening = latest_screening(client=client)
        request = FurtherTreatmentRequest.objects.create(
            client=client,
            from_course=course,
            new_course=new_course,
            screening_current=screening is not None and is_current(screening),
        )
        outbox_enqueue(
            kind=FURTHER_TREATMENT_NOTICE,
            key=str(request.uuid),
            payload={"request": str(request.uuid)},
        )
    return request, True


def contact_preferences_set(*, client: ClientProfile, peer_support: bool, research: bool) -> None:
    """The client's yes or no to being contacted about peer support (kept
    here) and research (the profile's own flag, marketing left as it is)."""
    with transaction.atomic():
        ContactPreferences.objects.update_or_create(
            client=client, defaults={"peer_support": peer_support, "updated_at": timezone.now()}
        )
        client_sharing_set(client=client, research=research, marketing=client.share_for_marketing)
