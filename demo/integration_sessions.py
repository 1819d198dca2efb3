"""Demo integration sessions: after the last dosing session of each course
in integrate or reconnect, the hour with its therapist the next day, held
(the window of those series has passed, so they are history, not offers).
Idempotent: a dosing session that already has one is left alone."""

from datetime import datetime, time, timedelta

from django.utils import timezone

from clinic.calendar import CalendarConflict, appointment_book
from clinic.models import Appointment, AppointmentKind, Stage
from integration.individual.models import IndividualSession
from integration.individual.selectors import session_therapist
from sessions.models import DosingSession


def seed_integration_sessions() -> int:
    made = 0
    held = (
        DosingSession.objects.filter(
            series__course__stage__in=[Stage.INTEGRATE, Stage.RECONNECT],
            appointment__status=Appointment.Status.HELD,
            integration_sessions__isnull=True,
        )
        .select_related("appointment__clinic", "appointment__client", "series__course")
        .order_by("series__course_id", "-appointment__start")
    )
    seen: set[int] = set()
    for dosing in held:
        course = dosing.series.course
        if course.pk in seen or IndividualSession.objects.filter(course=course).exists():
            continue
        therapist = session_therapist(dosing)
        if therapist is None:
            continue
        appointment = _first_free(dosing, therapist)
        if appointment is None:
            continue
        Appointment.objects.filter(pk=appointment.pk).update(status=Appointment.Status.HELD)
        IndividualSession.objects.create(
            appointment=appointment,
            dosing_session=dosing,
            course=course,
            therapist=therapist,
            booked_by=dosing.appointment.client.user,
        )
        seen.add(course.pk)
        made += 1
    return made


def _first_free(dosing: DosingSession, therapist) -> Appointment | None:
    """The first past hour from 16:00 the next day (then the next hours and
    days of the window, all before the evening groups) when the therapist and
    the client are both free."""
    clinic = dosing.appointment.clinic
    held_on = timezone.localtime(dosing.appointment.start, clinic.zone).date()
    now = timezone.now()
    for days in (1, 2, 3):
        for hour in (16, 17, 12, 13, 15, 9, 10, 11, 14):
            start = datetime.combine(held_on + timedelta(days=days), time(hour), tzinfo=clinic.zone)
            if start + timedelta(hours=1) > now:
                return None
            try:
                return appointment_book(
                    clinic=clinic,
                    kind=AppointmentKind.INTEGRATION_SESSION,
                    start=start,
                    end=start + timedelta(hours=1),
                    staff=[therapist],
                    client=dosing.appointment.client,
                )
            except CalendarConflict:
                continue
    return None
