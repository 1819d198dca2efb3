"""Set-up for the integration sessions' tests: a client's dosing session
held the day before the clock, with a therapist and a medical practitioner."""

from datetime import datetime
from zoneinfo import ZoneInfo

from clinic.models import Appointment, Stage
from sessions.tests.record_factories import course_in, session_at

MTL = ZoneInfo("America/Toronto")
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=MTL)  # a Monday morning
HELD_AT = datetime(2026, 5, 31, 9, 0, tzinfo=MTL)  # the dosing session, the day before
# The window: Monday to Wednesday (1 to 3 days after), 9:00 to 17:00, an hour each.
MONDAY_TEN = datetime(2026, 6, 1, 10, 0, tzinfo=MTL)
TUESDAY_NINE = datetime(2026, 6, 2, 9, 0, tzinfo=MTL)


def held_dosing(client, therapist, practitioner, *, stage=Stage.DOSING, start=HELD_AT):
    course = course_in(client.courses.get(), stage)
    session = session_at(course, therapist, practitioner, start=start)
    Appointment.objects.filter(pk=session.appointment_id).update(status=Appointment.Status.HELD)
    session.appointment.refresh_from_db()
    return session
