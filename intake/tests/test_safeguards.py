"""Safeguards found in review: nothing sent twice or for a stale booking,
no 500 on extreme input, one account per address, staff behind two-factor."""

import uuid
from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.urls import reverse

from clinic.models import OutboxMessage, User
from clinic.outbox import outbox_sweep
from intake import services
from intake.models import BookingRequest
from intake.selectors import Slot
from intake.tests.conftest import MTL, THURSDAY_10
from intake.tests.factories import book_call, rules


def book(clinic, start=THURSDAY_10, email="alex@example.com"):
    return book_call(clinic, start, email=email)


class FailingSMS:
    def send(self, to, body):
        raise ConnectionError("SMS provider down")


def test_a_failing_text_never_repeats_the_email_reminder(intake_clinic, clock, settings):
    settings.SMS_BACKEND = "intake.tests.test_safeguards.FailingSMS"
    book(intake_clinic)
    outbox_sweep()
    mail.outbox.clear()
    clock.move_to(THURSDAY_10 - timedelta(hours=23, minutes=59))
    for minutes in range(0, 120, 15):  # the sweep runs again and again while the provider is down
        clock.move_to(THURSDAY_10 - timedelta(hours=23, minutes=59) + timedelta(minutes=minutes))
        outbox_sweep()
    assert len([m for m in mail.outbox if m.to == ["alex@example.com"]]) == 1
    text = OutboxMessage.objects.get(kind=services.SMS_REMINDER_24H)
    assert (
        text.status == "pending" and text.attempts >= 2 and "SMS provider down" in text.last_error
    )


def test_staff_are_not_told_of_a_booking_cancelled_before_the_sweep_but_of_the_cancellation(
    intake_clinic, therapist, coordinator, clock
):
    call = book(intake_clinic)
    services.intake_call_cancel(intake_call=call)
    outbox_sweep()
    outbox_sweep()  # the fan-out's rows go on the next pass
    subjects = [m.subject for m in mail.outbox if m.to in ([therapist.email], [coordinator.email])]
    assert not any("New intake call" in s for s in subjects)
    assert len([s for s in subjects if "cancelled" in s]) == 2


def test_staff_hear_of_a_move_and_the_new_clinician_is_told(intake_clinic, therapist, clock):
    call = book(intake_clinic)
    outbox_sweep()
    outbox_sweep()
    mail.outbox.clear()
    services.intake_call_reschedule(intake_call=call, start=THURSDAY_10 + timedelta(days=1))
    outbox_sweep()
    outbox_sweep()
    assert any("moved" in m.subject for m in mail.outbox if m.to == [therapist.email])


def test_a_reminder_already_due_at_booking_is_not_queued(intake_clinic, clock):
    rules(intake_clinic, minimum_notice_hours=0)
    clock.move_to(datetime(2026, 6, 1, 9, 5, tzinfo=MTL))
    book(intake_clinic, start=datetime(2026, 6, 1, 15, 0, tzinfo=MTL))
    kinds = set(OutboxMessage.objects.values_list("kind", flat=True))
    assert services.REMINDER_24H not in kinds and services.REMINDER_2H in kinds


def test_one_account_per_address_whatever_its_capitals(intake_clinic, clock):
    book(intake_clinic, email="Case@Example.com")
    with pytest.raises(services.BookingError, match="already have an intake call"):
        book(intake_clinic, email="case@example.com", start=THURSDAY_10 + timedelta(hours=2))
    assert User.objects.filter(email__iexact="case@example.com").count() == 1


def test_rescheduling_onto_a_taken_time_changes_nothing(intake_clinic, clock):
    mine = book(intake_clinic)
    book(intake_clinic, email="other@example.com", start=THURSDAY_10 + timedelta(days=1))
    with pytest.raises(services.BookingError, match="not available"):
        services.intake_call_reschedule(intake_call=mine, start=THURSDAY_10 + timedelta(days=1))
    mine.appointment.refresh_from_db()
    assert mine.appointment.start == THURSDAY_10 and mine.appointment.version == 1


def test_a_cancel_from_a_link_older_than_a_move_does_not_cancel_the_new_time(intake_clinic, clock):
    call = book(intake_clinic)
    stale = services.IntakeCall.objects.select_related("appointment").get(pk=call.pk)
    services.intake_call_reschedule(intake_call=call, start=THURSDAY_10 + timedelta(days=1))
    with pytest.raises(services.BookingError):
        services.intake_call_cancel(intake_call=stale)
    call.appointment.refresh_from_db()
    assert call.appointment.status == "booked"


@pytest.mark.parametrize(
    "path",
    [
        "/book/montreal/?week=9999-12-31",
        "/book/montreal/?week=0001-01-01",
        "/book/montreal/00010101T0000Z/",
        "/book/montreal/99991231T2359Z/",
        "/book/montreal/20260604T1400Z/?x=" + "a" * 5000,
    ],
)
def test_extreme_dates_and_keys_never_give_a_500(client, intake_clinic, clock, path):
    assert client.get(path).status_code in (200, 404)
    assert client.post(path, {"phone": "x"}).status_code in (200, 404, 405)


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2026-13-45", ""])
def test_the_day_view_survives_any_day(staff_login, intake_clinic, therapist, day):
    assert staff_login(therapist).get(reverse("intake:staff_day"), {"day": day}).status_code == 200


def test_a_staff_profile_without_admin_access_still_meets_the_two_factor_gate(client, therapist):
    User.objects.filter(pk=therapist.pk).update(is_staff=False)
    client.force_login(User.objects.get(pk=therapist.pk))
    for path in ("/staff/", "/staff/intake/"):
        assert client.get(path)["Location"] == reverse("staff_invitation_needed")


def test_the_privacy_officer_does_not_see_the_calendar(staff_login, privacy_officer):
    assert staff_login(privacy_officer).get(reverse("intake:staff_day")).status_code == 403


def test_the_calendar_invitation_is_neutral_and_carries_no_link(intake_clinic, clock):
    import icalendar

    book(intake_clinic)
    outbox_sweep()
    ics = icalendar.Calendar.from_ical(mail.outbox[0].attachments[0][1])
    event = next(iter(ics.walk("VEVENT")))
    assert str(event["SUMMARY"]) == "Phone appointment"
    assert "/book/manage/" not in str(event.get("DESCRIPTION"))
    text = ics.to_ical().decode()
    # Not even in the producer id: "KAT" names the therapy to whoever sees the calendar.
    assert str(ics["PRODID"]) == "-//Clinic//Appointments//EN"
    assert "ketamine" not in text.lower() and "KAT" not in text


def test_a_booking_request_for_a_time_already_gone_says_so_at_once(client, intake_clinic, clock):
    book(intake_clinic, email="first@example.com")
    start = THURSDAY_10
    response = client.post(
        reverse("intake:book", args=[intake_clinic.slug, Slot(start, start, ()).key]),
        {
            "first_name": "A",
            "last_name": "B",
            "email": "x@example.com",
            "phone": "514 555 0123",
            "language": "en",
            "concern": "anxiety",
            "consent_to_contact": "on",
            "submission": str(uuid.uuid4()),
        },
    )
    assert "not available any more" in response.content.decode()
    assert not OutboxMessage.objects.filter(kind=services.CONFIRM_REQUEST).exists()
    assert not BookingRequest.objects.exists()
