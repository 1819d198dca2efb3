"""Set-up for the session record's tests: courses moved to a stage, dosing
sessions booked on the one calendar (clinic.calendar.appointment_book, then
the DosingSeries / DosingSession rows: the scheduling area's own booking
service is written beside this one), assessments and preparatory sessions.

Its fixtures are registered by sessions/tests/conftest.py."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from clinic.calendar import appointment_book
from clinic.models import AppointmentKind, Course, Stage, User
from clinic.tests.factories import RoomFactory
from demo.dosing_record import dosing_session_book
from sessions.models import DosingSeries, DosingSession, PreparationAppointment, Route
from sessions.services import record


def course_in(course: Course, stage: str) -> Course:
    """Test set-up: put the course in a stage (its gates are tested elsewhere)."""
    Course.objects.filter(pk=course.pk).update(stage=stage)
    return Course.objects.get(pk=course.pk)


def preparation_at(
    course: Course, staff: User, *, start: datetime, kind=AppointmentKind.MEDICAL_ASSESSMENT
) -> PreparationAppointment:
    appointment = appointment_book(
        clinic=course.clinic,
        kind=kind,
        start=start,
        end=start + timedelta(minutes=60),
        staff=[staff],
        client=course.client,
    )
    return PreparationAppointment.objects.create(
        appointment=appointment, course=course, booked_by=staff
    )


def series_of(course: Course, planned: int, by: User) -> DosingSeries:
    series = DosingSeries.objects.filter(course=course).first()
    return series or DosingSeries.objects.create(
        course=course, planned_sessions=planned, planned_by=by
    )


def session_at(
    course: Course,
    therapist: User,
    practitioner: User,
    *,
    start: datetime,
    planned: int = 1,
    room=None,
) -> DosingSession:
    series = series_of(course, planned, practitioner)
    room = room or RoomFactory(clinic=course.clinic)
    return dosing_session_book(
        series=series, start=start, therapist=therapist, practitioner=practitioner, room=room
    )


def plan_for(course: Course, practitioner: User, dose="50", route=Route.NASAL_SPRAY):
    return record.dose_plan_set(
        course=course,
        actor=practitioner,
        route=route,
        dose_mg=Decimal(dose),
        seen=None,
    )


def minutes_ago(minutes: int) -> datetime:
    return timezone.now().replace(microsecond=0) - timedelta(minutes=minutes)


NORMAL = {"systolic": 124, "diastolic": 78, "heart_rate": 70, "spo2": 98}


def vitals(session, actor, moment="pre_dose", **values):
    return record.vitals_record(session=session, actor=actor, moment=moment, **{**NORMAL, **values})


def dose(session, actor, *, minutes_back=45, dose_mg="50", route=Route.NASAL_SPRAY, **extra):
    return record.administration_record(
        session=session,
        actor=actor,
        given_at=minutes_ago(minutes_back),
        route=route,
        dose_mg=Decimal(dose_mg),
        **extra,
    )


def ready_to_close(session, therapist, practitioner):
    """Vitals, the dose 45 minutes ago, the vitals due after it and at discharge."""
    vitals(session, therapist)
    dose(session, practitioner)
    vitals(session, therapist, "post_dose")
    vitals(session, therapist, "discharge")


CHECKLIST = {
    "alert_and_oriented": True,
    "vitals_in_range": True,
    "escort_or_ride": True,
    "no_driving_acknowledged": True,
}


@pytest.fixture
def dosing_course(client_a):
    return course_in(client_a.courses.get(), Stage.DOSING)


@pytest.fixture
def dose_plan(dosing_course, medical_practitioner):
    return plan_for(dosing_course, medical_practitioner)


@pytest.fixture
def dosing_session(dosing_course, therapist, medical_practitioner, dose_plan):
    """Client A's only planned dosing session, begun an hour ago, with a plan of 50 mg nasal."""
    return session_at(dosing_course, therapist, medical_practitioner, start=minutes_ago(60))


def prepared_but_for_the_assessment(course: Course) -> Course:
    """A course in prepare with every module read and the consent to
    treatment signed: only the cleared assessment is missing for dosing."""
    from sessions.selectors.gates import current_module_versions, documents_in_force
    from sessions.services import prepare

    for version in current_module_versions():
        prepare.module_complete(course=course, module=version.module, version_number=version.number)
    document = next(d for d in documents_in_force("treatment") if d.language == "en")
    prepare.consent_sign(
        course=course,
        kind="treatment",
        language="en",
        shown_sha256=document.sha256,
        typed_name=course.client.user.get_full_name(),
        agreed=True,
    )
    course.refresh_from_db()
    return course
