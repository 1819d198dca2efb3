"""Set-up helpers for the prepare and dosing tests."""

from datetime import datetime, timedelta

from django.utils import timezone

from clinic.calendar import appointment_book, appointment_mark
from clinic.models import AppointmentKind, Course, Room
from clinic.tests.factories import RoomFactory
from sessions.models import AssessmentSignOff, ConsentDocument, PreparationAppointment
from sessions.selectors.gates import current_module_versions
from sessions.selectors.prepare import document_in_force
from sessions.services import prepare as services
from sessions.services import scheduling


def put_in_stage(course: Course, stage: str, before_hold: str = "") -> Course:
    """Test set-up only: place a course in a stage without the journey service."""
    Course.objects.filter(pk=course.pk).update(stage=stage, stage_before_hold=before_hold)
    return Course.objects.select_related("clinic", "client__user").get(pk=course.pk)


def read_all_modules(course: Course) -> None:
    for version in current_module_versions():
        services.module_complete(
            course=course, module=version.module, version_number=version.number
        )


def sign(course: Course, kind: str = ConsentDocument.Kind.TREATMENT, *, language: str = "en"):
    document = document_in_force(kind=kind, language=language)
    consent, _created = services.consent_sign(
        course=course,
        kind=kind,
        language=document.language,
        shown_sha256=document.sha256,
        typed_name=course.client.user.get_full_name(),
        agreed=True,
        ip="203.0.113.7",
    )
    return consent


def assessment(course: Course, practitioner, *, held: bool = True, hours_ago: int = 30):
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=hours_ago)
    appointment = appointment_book(
        clinic=course.clinic,
        kind=AppointmentKind.MEDICAL_ASSESSMENT,
        start=start,
        end=start + timedelta(minutes=45),
        staff=[practitioner],
        client=course.client,
    )
    if held:
        appointment_mark(appointment=appointment, status="held", now=timezone.now())
    return PreparationAppointment.objects.create(
        appointment=appointment, course=course, booked_by=practitioner
    )


def clear(course: Course, practitioner, *, cleared: bool = True) -> AssessmentSignOff:
    """A held medical assessment signed off (the record helper's service
    will do this; the gate only reads the rows)."""
    return AssessmentSignOff.objects.create(
        assessment=assessment(course, practitioner),
        cleared=cleared,
        note="Blood pressure and history reviewed.",
        by=practitioner,
    )


def new_consent_version(kind: str = ConsentDocument.Kind.TREATMENT, *, in_force_from=None):
    """Publish the next version of a consent in both languages."""
    newest = ConsentDocument.objects.filter(kind=kind).order_by("-version").first()
    when = in_force_from or timezone.now() - timedelta(minutes=1)
    documents = []
    for language in ("en", "fr"):
        documents.append(
            ConsentDocument.objects.create(
                kind=kind,
                version=newest.version + 1,
                language=language,
                title=f"{newest.title} ({language}, v{newest.version + 1})",
                body=newest.body + "\n\nA new paragraph.",
                in_force_from=when,
            )
        )
    return documents


# --- Scheduling (the room board's tests) -----------------------------------------------


def in_stage(client, stage: str) -> Course:
    """Test set-up: the client's course put straight into `stage` (the
    journey's own tests cover how a course gets there)."""
    course = client.courses.get()
    Course.objects.filter(pk=course.pk).update(stage=stage)
    return Course.objects.select_related("client__user", "clinic").get(pk=course.pk)


def dosing_room(clinic, name: str = "Salle Fleuve") -> Room:
    return RoomFactory(clinic=clinic, name=name, is_dosing_room=True)


def office(clinic, name: str = "Bureau 2") -> Room:
    return RoomFactory(clinic=clinic, name=name, is_dosing_room=False)


def team(room, therapist, practitioner) -> scheduling.DosingTeam:
    return scheduling.DosingTeam(room=room, therapist=therapist, practitioner=practitioner)


def book_dosing(course, starts: list[datetime], dosing_team, actor):
    return scheduling.dosing_sessions_book(
        course=course, starts=starts, team=dosing_team, actor=actor
    )
