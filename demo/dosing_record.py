"""Demo records of preparing and dosing, written through the session
record's services as a clinic would write them, at the times they would
have happened (each service takes `now`). The seeds call these; so do tests
that need a course with a cleared assessment or a finished series."""

from datetime import datetime, timedelta
from decimal import Decimal

from clinic.calendar import appointment_book
from clinic.models import AppointmentKind, Course, Room, User
from sessions.models import (
    DosePlan,
    DosingSeries,
    DosingSession,
    PreparationAppointment,
    Route,
    VitalsReading,
)
from sessions.selectors.record import dose_plan_in_force, dosing_settings
from sessions.services import record

DEMO_VITALS = {"systolic": 124, "diastolic": 78, "heart_rate": 72, "spo2": 98}


def cleared_assessment(
    *, course: Course, practitioner: User, start: datetime, booked_by: User | None = None
) -> PreparationAppointment:
    """A medical assessment that took place at `start`, signed off as cleared
    for dosing (which moves the course on when prepare's other conditions
    hold)."""
    appointment = appointment_book(
        clinic=course.clinic,
        kind=AppointmentKind.MEDICAL_ASSESSMENT,
        start=start,
        end=start + timedelta(minutes=60),
        staff=[practitioner],
        client=course.client,
    )
    assessment = PreparationAppointment.objects.create(
        appointment=appointment, course=course, booked_by=booked_by or practitioner
    )
    after = start + timedelta(minutes=65)
    record.preparation_mark(preparation=assessment, actor=practitioner, status="held", now=after)
    record.assessment_sign_off(
        assessment=assessment,
        actor=practitioner,
        cleared=True,
        note="Demo: blood pressure and history fine; cleared for dosing.",
        now=after,
    )
    return assessment


def dose_plan(
    *, course: Course, practitioner: User, dose_mg: str = "50", route: str = Route.NASAL_SPRAY
) -> DosePlan:
    """The plan in force, set by the practitioner when there is none yet."""
    return dose_plan_in_force(course) or record.dose_plan_set(
        course=course,
        actor=practitioner,
        route=route,
        dose_mg=Decimal(dose_mg),
        notes="Demo plan.",
        seen=None,
    )


def held_session(*, session: DosingSession, therapist: User, practitioner: User) -> record.Closed:
    """An uneventful dosing session, recorded from start to discharge at the
    times it took place: vitals before the dose, the dose as planned, vitals
    once due after it and at discharge, a note, the checklist. The session's
    appointment must have started (and ended) already."""
    appointment = session.appointment
    course = session.series.course
    settings = dosing_settings(appointment.clinic)
    plan = dose_plan(course=course, practitioner=practitioner)
    start = appointment.start
    record.vitals_record(
        session=session,
        actor=therapist,
        moment=VitalsReading.Moment.PRE_DOSE,
        now=start + timedelta(minutes=5),
        **DEMO_VITALS,
    )
    given_at = start + timedelta(minutes=15)
    record.administration_record(
        session=session,
        actor=practitioner,
        given_at=given_at,
        route=plan.route,
        dose_mg=plan.dose_mg,
        now=given_at + timedelta(minutes=1),
    )
    after = given_at + timedelta(minutes=settings.post_dose_vitals_minutes)
    record.vitals_record(
        session=session,
        actor=therapist,
        moment=VitalsReading.Moment.POST_DOSE,
        now=after,
        **{**DEMO_VITALS, "systolic": 132, "heart_rate": 80},
    )
    leaving = max(after + timedelta(minutes=30), appointment.end - timedelta(minutes=20))
    record.vitals_record(
        session=session,
        actor=therapist,
        moment=VitalsReading.Moment.DISCHARGE,
        now=leaving,
        **DEMO_VITALS,
    )
    record.note_record(
        session=session,
        actor=therapist,
        text="Demo: a calm session; the client rested and spoke about what came up.",
        now=leaving,
    )
    return record.session_discharge(
        session=session,
        actor=therapist,
        alert_and_oriented=True,
        vitals_in_range=True,
        escort_or_ride=True,
        no_driving_acknowledged=True,
        now=leaving + timedelta(minutes=1),
    )


def dosing_session_book(
    *,
    series: DosingSeries,
    start: datetime,
    therapist: User,
    practitioner: User,
    room: Room | None = None,
) -> DosingSession:
    """A dosing session on the calendar (room, client, therapist and
    practitioner for the clinic's session length, the room's cleaning buffer
    after it) and in the series. The scheduling area's booking service adds
    its own rules (course in dosing, series spacing); this is the bare row
    for seeds and tests."""
    course = series.course
    settings = dosing_settings(course.clinic)
    appointment = appointment_book(
        clinic=course.clinic,
        kind=AppointmentKind.DOSING_SESSION,
        start=start,
        end=start + timedelta(minutes=settings.session_minutes),
        staff=[therapist, practitioner],
        client=course.client,
        room=room,
        # The cleaning holds the room, not the people (as the scheduling service books).
        room_buffer=timedelta(minutes=settings.cleaning_buffer_minutes),
    )
    return DosingSession.objects.create(appointment=appointment, series=series)


def completed_series(
    *,
    course: Course,
    therapist: User,
    practitioner: User,
    room: Room | None,
    start: datetime,
    sessions: int = 1,
    days_apart: int = 7,
) -> DosingSeries:
    """A series of `sessions` held and discharged sessions from `start`: the
    last discharge moves the course on to integrate."""
    series = DosingSeries.objects.create(
        course=course, planned_sessions=sessions, planned_by=practitioner
    )
    for number in range(sessions):
        session = dosing_session_book(
            series=series,
            start=start + timedelta(days=number * days_apart),
            therapist=therapist,
            practitioner=practitioner,
            room=room,
        )
        held_session(session=session, therapist=therapist, practitioner=practitioner)
    return series
