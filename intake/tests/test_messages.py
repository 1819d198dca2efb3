"""Confirmation, reminders and cancellations: each goes out once, never for a
moved or cancelled call, and never for a call already past."""

from datetime import timedelta

import icalendar
import pytest
from django.core import mail

from clinic import sms
from clinic.outbox import outbox_sweep
from intake import services
from intake.models import IntakeCall
from intake.tests.conftest import THURSDAY_10
from intake.tests.factories import book_call


@pytest.fixture
def call(intake_clinic, clock) -> IntakeCall:
    sms.outbox.clear()
    return book_call(intake_clinic, THURSDAY_10, language="fr")


def sent_to(address):
    return [m for m in mail.outbox if m.to == [address]]


def test_the_confirmation_carries_a_calendar_invitation_in_local_time(call, therapist, coordinator):
    outbox_sweep()
    confirmation = sent_to("alex@example.com")
    assert len(confirmation) == 1
    message = confirmation[0]
    attachment = next(a for a in message.attachments if a[0] == "invitation.ics")
    calendar = icalendar.Calendar.from_ical(attachment[1])
    event = next(c for c in calendar.walk("VEVENT"))
    assert event["DTSTART"].dt == THURSDAY_10
    assert event["DTSTART"].params["TZID"] == "America/Toronto"
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["America/Toronto"]
    assert str(event["UID"]).startswith(str(call.appointment.uuid))
    assert calendar["METHOD"] == "REQUEST"
    body = message.body
    assert "/book/manage/" in body
    assert "/accounts/activate/" in body  # a new account is invited to set a password
    # The staff hear of it, without health data in the e-mail.
    assert len(sent_to(therapist.email)) == 1 and len(sent_to(coordinator.email)) == 1
    assert "depression" not in sent_to(coordinator.email)[0].body.lower()


def test_each_reminder_goes_out_once_at_its_time(call, clock):
    outbox_sweep()
    mail.outbox.clear()
    clock.move_to(THURSDAY_10 - timedelta(hours=24, minutes=-1))
    outbox_sweep()
    outbox_sweep()  # a retry or a second beat finds nothing more
    assert len(sent_to("alex@example.com")) == 1
    clock.move_to(THURSDAY_10 - timedelta(hours=2, minutes=-1))
    outbox_sweep()
    outbox_sweep()
    reminders = sent_to("alex@example.com")
    assert len(reminders) == 2
    assert len(sms.outbox) == 2 and sms.outbox[0][0] == "+15145550123"


def test_a_rescheduled_call_gets_no_stale_reminder(call, clock):
    outbox_sweep()
    old_token = services.manage_token(call)
    services.intake_call_reschedule(intake_call=call, start=THURSDAY_10 + timedelta(days=1))
    outbox_sweep()
    mail.outbox.clear()
    clock.move_to(THURSDAY_10 - timedelta(hours=1))  # both old reminders are due: nothing goes
    outbox_sweep()
    assert sent_to("alex@example.com") == []
    clock.move_to(THURSDAY_10 + timedelta(days=1) - timedelta(hours=24, minutes=-1))
    outbox_sweep()
    assert len(sent_to("alex@example.com")) == 1
    with pytest.raises(services.BookingError, match="has changed since this link was sent"):
        services.intake_call_from_token(old_token)


def test_a_cancelled_call_gets_a_cancellation_and_no_reminder(call, clock):
    outbox_sweep()
    mail.outbox.clear()
    services.intake_call_cancel(intake_call=call)
    outbox_sweep()
    cancellation = sent_to("alex@example.com")
    assert len(cancellation) == 1
    ics = icalendar.Calendar.from_ical(cancellation[0].attachments[0][1])
    assert ics["METHOD"] == "CANCEL"
    clock.move_to(THURSDAY_10 - timedelta(hours=1))
    outbox_sweep()
    assert len(sent_to("alex@example.com")) == 1


def test_after_an_outage_nothing_goes_for_a_call_already_past(call, clock):
    clock.move_to(THURSDAY_10 + timedelta(hours=1))
    result = outbox_sweep()
    assert sent_to("alex@example.com") == []
    assert result.skipped >= 5  # confirmation and every reminder, e-mail and text


def test_after_an_outage_a_late_day_before_reminder_gives_way_to_the_two_hour_one(call, clock):
    outbox_sweep()
    mail.outbox.clear()
    clock.move_to(THURSDAY_10 - timedelta(hours=1))
    outbox_sweep()
    assert len(sent_to("alex@example.com")) == 1


def test_messages_go_in_the_clients_language(call):
    outbox_sweep()
    assert sent_to("alex@example.com")[0].subject.startswith("Votre appel d’accueil")


def test_plain_text_messages_are_not_html_escaped(intake_clinic, clock, therapist):
    """A name with an apostrophe and a link with several parameters read as
    written in the text part and the staff notice, not as HTML entities."""
    intake_clinic.name = "Clinique de l'Île"
    intake_clinic.save()
    book_call(intake_clinic, THURSDAY_10, email="obrien@example.com")
    outbox_sweep()
    outbox_sweep()
    confirmation = sent_to("obrien@example.com")[0]
    assert "Clinique de l'Île" in confirmation.body and "&#x27;" not in confirmation.body
    notice = sent_to(therapist.email)[0]
    assert "&amp;" not in notice.body and "&#x27;" not in notice.body
    assert "Clinique de l'Île" in notice.body
