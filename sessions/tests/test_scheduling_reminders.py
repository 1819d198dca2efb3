"""The client's messages about their sessions, through the outbox: the
confirmation with a neutral calendar invitation, reminders 48 and 24 hours
ahead in their language with the clinic's day-of instructions before a
dosing session, each sent once, none for a moved or cancelled time."""

from datetime import timedelta

import icalendar
import pytest
from django.core import mail

from clinic.models import AppointmentKind, OutboxMessage
from clinic.outbox import outbox_sweep
from sessions.models import DosingSettings
from sessions.services import scheduling
from sessions.tests.conftest import THURSDAY_9
from sessions.tests.factories import book_dosing

INSTRUCTIONS_EN = "Do not eat for 4 hours before the session"


@pytest.fixture
def session(course_in_dosing, dosing_team, coordinator, clock):
    [session] = book_dosing(course_in_dosing, [THURSDAY_9], dosing_team, coordinator)
    return session


def to_client(course):
    """The session's own messages to the client (the questionnaire a dosing
    session brings is integration's, tested there)."""
    return [
        m
        for m in mail.outbox
        if m.to == [course.client.user.email] and "questionnaire" not in m.subject.lower()
    ]


def sweep_at(clock, moment):
    clock.move_to(moment)
    outbox_sweep()
    outbox_sweep()  # a second beat, or a retry, finds nothing more to send


def test_the_confirmation_carries_a_neutral_invitation_in_the_clinic_s_time(
    session, course_in_dosing
):
    outbox_sweep()
    [confirmation] = to_client(course_in_dosing)
    assert confirmation.subject == "Your appointment is booked: Thursday June 4, 2026, 9:00 a.m."
    assert "Your dosing session is booked." in confirmation.body
    assert INSTRUCTIONS_EN in confirmation.body
    name, content, mimetype = confirmation.attachments[0]
    assert (name, mimetype) == ("invitation.ics", "text/calendar; charset=utf-8; method=REQUEST")
    invitation = icalendar.Calendar.from_ical(content)
    event = next(iter(invitation.walk("VEVENT")))
    assert event["DTSTART"].dt == THURSDAY_9
    assert event["DTSTART"].params["TZID"] == "America/Toronto"
    assert str(invitation["PRODID"]) == "-//Clinic//Appointments//EN"
    # Calendars are shared: nothing in the invitation says what the appointment is.
    text = (content if isinstance(content, str) else content.decode()).lower()
    for word in ("dosing", "ketamine", "therapy", "session", "kétamine"):
        assert word not in text, word
    assert str(event["SUMMARY"]) == "Appointment at the clinic"


def test_each_reminder_goes_out_once_at_its_time_with_the_day_of_instructions(
    session, course_in_dosing, clock
):
    outbox_sweep()
    mail.outbox.clear()
    sweep_at(clock, THURSDAY_9 - timedelta(hours=48, minutes=-1))
    [first] = to_client(course_in_dosing)
    assert first.subject == "Reminder: your appointment on Thursday June 4, 2026, 9:00 a.m."
    assert "A reminder of your dosing session" in first.body
    assert INSTRUCTIONS_EN in first.body
    sweep_at(clock, THURSDAY_9 - timedelta(hours=24, minutes=-1))
    assert len(to_client(course_in_dosing)) == 2
    sweep_at(clock, THURSDAY_9 + timedelta(hours=1))
    assert len(to_client(course_in_dosing)) == 2


def test_reminders_are_in_the_client_s_language_with_the_clinic_s_own_instructions(
    session, course_in_dosing, clinic_qc, clock
):
    DosingSettings.objects.create(
        clinic=clinic_qc, day_of_instructions_fr="Apportez une couverture et vos lunettes."
    )
    user = course_in_dosing.client.user
    user.preferred_language = "fr"
    user.save()
    sweep_at(clock, THURSDAY_9 - timedelta(hours=47))
    reminder = to_client(course_in_dosing)[-1]
    assert reminder.subject.startswith("Rappel\xa0: votre rendez-vous du ")
    assert reminder.subject.endswith("4 juin 2026, 9 h 00")
    assert "Apportez une couverture et vos lunettes." in reminder.body
    assert "séance de kétamine" in reminder.body


def test_after_an_outage_only_the_nearest_reminder_goes_out(session, course_in_dosing, clock):
    outbox_sweep()
    mail.outbox.clear()
    sweep_at(clock, THURSDAY_9 - timedelta(hours=20))
    assert len(to_client(course_in_dosing)) == 1
    assert OutboxMessage.objects.get(kind=scheduling.REMINDER_48H).status == "skipped"


def test_a_moved_session_s_old_reminders_go_stale_and_new_ones_follow(
    session, course_in_dosing, dosing_team, coordinator, clock
):
    outbox_sweep()
    friday = THURSDAY_9 + timedelta(days=1)
    scheduling.dosing_session_move(
        session=session, start=friday, team=dosing_team, actor=coordinator, version=1
    )
    outbox_sweep()
    moved = to_client(course_in_dosing)[-1]
    assert moved.subject == "New time for your appointment: Friday June 5, 2026, 9:00 a.m."
    mail.outbox.clear()
    sweep_at(clock, THURSDAY_9 - timedelta(hours=24, minutes=-1))
    # The reminders of Thursday are stale; Friday's 48-hour reminder is due.
    reminders = to_client(course_in_dosing)
    assert [m.subject for m in reminders] == [
        "Reminder: your appointment on Friday June 5, 2026, 9:00 a.m."
    ]
    sweep_at(clock, friday - timedelta(hours=23))
    assert len(to_client(course_in_dosing)) == 2
    stale = OutboxMessage.objects.filter(key__endswith=":v1", kind__startswith="dosing.reminder")
    assert set(stale.values_list("status", flat=True)) == {"skipped"}


def test_a_cancelled_session_gets_its_cancellation_and_no_reminder(
    session, course_in_dosing, coordinator, clock
):
    outbox_sweep()
    mail.outbox.clear()
    scheduling.booking_cancel(appointment=session.appointment, actor=coordinator, version=1)
    outbox_sweep()
    [cancelled] = to_client(course_in_dosing)
    assert "is cancelled" in cancelled.subject
    invitation = icalendar.Calendar.from_ical(cancelled.attachments[0][1])
    assert str(invitation["METHOD"]) == "CANCEL"
    sweep_at(clock, THURSDAY_9 - timedelta(hours=23))
    assert len(to_client(course_in_dosing)) == 1


def test_a_preparatory_session_is_reminded_without_the_dosing_instructions(
    course_in_prepare, therapist, coordinator, clock
):
    scheduling.preparation_appointment_book(
        course=course_in_prepare,
        kind=AppointmentKind.PREPARATORY_SESSION,
        start=THURSDAY_9,
        staff_member=therapist,
        actor=coordinator,
    )
    sweep_at(clock, THURSDAY_9 - timedelta(hours=47))
    messages = to_client(course_in_prepare)
    assert len(messages) == 2  # the confirmation, then the 48-hour reminder
    assert "A reminder of your preparatory session" in messages[-1].body
    assert INSTRUCTIONS_EN not in messages[-1].body


def test_a_booking_less_than_a_day_ahead_queues_no_reminder_already_due(
    course_in_dosing, dosing_team, coordinator, clock
):
    soon = THURSDAY_9 - timedelta(days=2, hours=12)  # Monday 21:00, 13 hours after now
    book_dosing(course_in_dosing, [soon], dosing_team, coordinator)
    kinds = set(
        OutboxMessage.objects.filter(kind__startswith="dosing.").values_list("kind", flat=True)
    )
    assert kinds == {scheduling.CONFIRMATION}
