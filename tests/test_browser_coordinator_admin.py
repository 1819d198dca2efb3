"""A coordinator schedules in the admin, in a real browser, in English and in
French: sets a clinician's weekly availability and sees the new times offered
on the public booking page, then closes the clinic for one of those days and
sees that day's times gone. The admin forms they use pass the axe check."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import expect

from intake.models import AvailabilityException, AvailabilityWindow
from intake.tests.factories import rules
from tests.test_browser_review import serious_violations
from tests.test_browser_screener import staff_context

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
MTL = ZoneInfo("America/Toronto")
# A Monday morning: with 24 hours' notice and a 42-day horizon, Thursday
# 4 June and Thursday 11 June are both bookable.
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=MTL)
THURSDAY = "2026-06-04"
FRIDAY = "2026-06-05"

TEXT = {
    "en": {
        "locale": "en-CA",
        "weekday": "Thursday",
        "thursday": "Thursday June 4",
        "next_thursday": "Thursday June 11",
        "nine": "9:00 a.m.",
        "none_this_week": "No time is free this week.",
        "next_week": "See the next week",
        "reason": "Team training day",
    },
    "fr": {
        "locale": "fr-CA",
        "weekday": "Jeudi",
        "thursday": "Jeudi 4 juin",
        "next_thursday": "Jeudi 11 juin",
        "nine": "9 h 00",
        "none_this_week": "Aucune plage horaire n’est libre cette semaine.",
        "next_week": "Voir la semaine suivante",
        "reason": "Journée de formation de l’équipe",
    },
}


def day_section(page, heading: str):
    return page.locator("section.slot-day").filter(
        has=page.get_by_role("heading", name=heading, exact=True)
    )


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_coordinator_sets_availability_and_a_closure_in_the_admin_and_the_booking_page_follows(
    live_server, browser, clinic_qc, coordinator, therapist, language
):
    text = TEXT[language]
    rules(clinic_qc)  # the defaults: 24 hours' notice, 42 days ahead, 30-minute calls
    therapist.first_name, therapist.last_name = "Camille", "Gagnon"
    therapist.save()
    coordinator.preferred_language = language
    coordinator.save()
    context = staff_context(
        browser, live_server, coordinator, locale=text["locale"], timezone_id="America/Toronto"
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    base = live_server.url
    booking = f"{base}/book/{clinic_qc.slug}/"
    with time_machine.travel(NOW):
        # Nobody is available yet: the booking page offers nothing this week.
        page.goto(booking)
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.get_by_text(text["none_this_week"])).to_be_visible()

        # The coordinator gives the therapist Thursday mornings in the admin.
        page.goto(f"{base}/admin/intake/availabilitywindow/add/")
        expect(page.locator("html")).to_have_attribute("lang", language)
        assert not serious_violations(page)
        page.locator("#id_clinic").select_option(label=clinic_qc.name)
        page.locator("#id_staff").select_option(label="Camille Gagnon")
        page.locator("#id_weekday").select_option(label=text["weekday"])
        page.locator("#id_start_time").fill("09:00")
        page.locator("#id_end_time").fill("12:00")
        page.locator('input[name="_save"]').click()
        expect(page).to_have_url(re.compile(r"/admin/intake/availabilitywindow/(\?.*)?$"))
        expect(page.locator(".messagelist .success")).to_be_visible()

        # The booking page now offers Thursday's times, from 9:00.
        page.goto(booking)
        thursday = day_section(page, text["thursday"])
        expect(thursday.locator("a.slot").first).to_contain_text(text["nine"])
        expect(thursday.get_by_role("link", name=text["nine"], exact=True)).to_be_visible()

        # The coordinator closes the clinic on that Thursday.
        page.goto(f"{base}/admin/intake/availabilityexception/add/")
        expect(page.locator("html")).to_have_attribute("lang", language)
        assert not serious_violations(page)
        page.locator("#id_clinic").select_option(label=clinic_qc.name)
        page.locator("#id_start_0").fill(THURSDAY)
        page.locator("#id_start_1").fill("00:00")
        page.locator("#id_end_0").fill(FRIDAY)
        page.locator("#id_end_1").fill("00:00")
        page.locator("#id_reason").fill(text["reason"])
        page.locator('input[name="_save"]').click()
        expect(page).to_have_url(re.compile(r"/admin/intake/availabilityexception/(\?.*)?$"))
        expect(page.locator(".messagelist .success")).to_be_visible()

        # Reloaded, the booking page has nothing left that Thursday (the only
        # day of the week with times), and the next Thursday is still offered.
        page.goto(booking)
        expect(page.get_by_text(text["none_this_week"])).to_be_visible()
        expect(page.locator("a.slot")).to_have_count(0)
        page.get_by_role("link", name=text["next_week"]).click()
        next_thursday = day_section(page, text["next_thursday"])
        expect(next_thursday.get_by_role("link", name=text["nine"], exact=True)).to_be_visible()
    context.close()
    window = AvailabilityWindow.objects.get()
    assert (window.clinic, window.staff, window.weekday) == (clinic_qc, therapist, 3)
    closure = AvailabilityException.objects.get()
    assert closure.staff is None and closure.reason == text["reason"]
