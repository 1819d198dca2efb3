"""A visitor asks for an intake call in a real browser, confirms it with the
e-mailed link, gets the confirmation
with its calendar invitation, moves the call by the e-mailed link, and gets
exactly one reminder of each kind."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import time_machine
from django.core import mail
from playwright.sync_api import expect

from clinic.outbox import outbox_sweep
from intake.models import IntakeCall
from intake.tests.factories import rules, weekly_availability

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
MTL = ZoneInfo("America/Toronto")
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=MTL)


def test_a_visitor_books_reschedules_by_link_and_gets_one_reminder_of_each_kind(
    live_server, page, clinic_qc, therapist
):
    rules(clinic_qc)
    weekly_availability(clinic_qc, therapist, days=range(5))
    with time_machine.travel(NOW) as clock:
        page.goto(live_server.url + "/book/")
        page.get_by_test_id("clinic-montreal").click()
        expect(page.get_by_test_id("slots-title")).to_be_visible()
        page.locator("a.slot").first.click()
        page.get_by_label("First name").fill("Alex")
        page.get_by_label("Last name").fill("Tremblay")
        page.get_by_role("textbox", name="E-mail").fill("alex@example.com")
        page.get_by_role("textbox", name="Phone").fill("514 555 0123")
        page.get_by_label("What would you like help with?").select_option("depression")
        page.get_by_label(re.compile("I agree that the clinic contacts me")).check()
        page.get_by_test_id("book-submit").click()
        expect(page.get_by_test_id("check-email-title")).to_be_visible()
        outbox_sweep()
        request_mail = next(m for m in mail.outbox if m.to == ["alex@example.com"])
        confirm_path = re.search(r"http://testserver(/book/confirm/\S+/)", request_mail.body).group(
            1
        )
        page.goto(live_server.url + confirm_path)
        page.get_by_test_id("confirm-submit").click()
        expect(page.get_by_test_id("booked-title")).to_be_visible()
        mail.outbox.clear()

        call = IntakeCall.objects.select_related("appointment").get()
        first_start = call.appointment.start
        assert first_start == datetime(
            2026, 6, 2, 9, 0, tzinfo=MTL
        )  # the first free slot after the notice

        # The week was kept rendered when the visitor first saw it: the booking
        # replaced it at once, and the time taken is offered to nobody else.
        page.goto(live_server.url + "/book/montreal/")
        booked = first_start.astimezone(ZoneInfo("UTC")).strftime("%Y%m%dT%H%MZ")
        expect(page.locator("a.slot").first).to_be_visible()
        expect(page.locator(f'a.slot[href*="{booked}"]')).to_have_count(0)

        outbox_sweep()
        confirmation = next(m for m in mail.outbox if m.to == ["alex@example.com"])
        ics = icalendar.Calendar.from_ical(confirmation.attachments[0][1])
        event = next(iter(ics.walk("VEVENT")))
        assert (
            event["DTSTART"].dt == first_start
            and event["DTSTART"].params["TZID"] == "America/Toronto"
        )
        manage_path = re.search(r"http://testserver(/book/manage/\S+/)", confirmation.body).group(1)

        page.goto(live_server.url + manage_path)
        expect(page.get_by_test_id("manage-when")).to_contain_text("Tuesday")
        expect(page.get_by_test_id("current-slot")).to_be_visible()
        page.locator("button.slot").nth(3).click()
        page.get_by_test_id("confirm-yes").click()
        expect(page.get_by_text("Your intake call is moved")).to_be_visible()
        call.appointment.refresh_from_db()
        new_start = call.appointment.start
        assert new_start != first_start and call.appointment.version == 2

        outbox_sweep()
        mail.outbox.clear()
        for lead in (timedelta(hours=24), timedelta(hours=2)):
            clock.move_to(new_start - lead + timedelta(minutes=1))
            outbox_sweep()
            outbox_sweep()
        reminders = [m for m in mail.outbox if m.to == ["alex@example.com"]]
        assert len(reminders) == 2
        assert all("Reminder" in m.subject for m in reminders)
