"""A client changes an intake call by the e-mailed manage link, in English and
in French: the current time is marked in the grid, and cancelling or moving
asks first (the call's time, or the old and the new one). Backing out of the
question changes nothing."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from clinic.models import Appointment
from intake import services
from intake.tests.factories import book_call, rules, weekly_availability

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
MTL = ZoneInfo("America/Toronto")
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=MTL)
THURSDAY_10 = datetime(2026, 6, 4, 10, 0, tzinfo=MTL)

WORDS = {
    "en": {
        "when": "Thursday June 4, 2026, 10:00 a.m.",
        "new": "Friday June 5, 2026, 9:00 a.m.",
        "cancel": "Cancel the call",
        "cancelled": "Status of this call: cancelled",
        "moved": "Your intake call is moved",
        "current": "Your current time",
    },
    "fr": {
        "when": "jeudi 4 juin 2026, 10 h 00",
        "new": "vendredi 5 juin 2026, 9 h 00",
        "cancel": "Annuler l’appel",
        "cancelled": "Statut de cet appel : annulé",
        "moved": "Votre appel d’accueil a été déplacé",
        "current": "Votre heure actuelle",
    },
}


def serious_violations(page) -> list[str]:
    return [
        f"{v['id']} ({v['impact']})"
        for v in Axe().run(page).response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.fixture
def manage_path(clinic_qc, therapist):
    rules(clinic_qc, minimum_notice_hours=24, change_cutoff_hours=24)
    weekly_availability(clinic_qc, therapist, days=range(5))
    with time_machine.travel(NOW, tick=False):
        call = book_call(clinic_qc, THURSDAY_10)
    return call, f"/book/manage/{services.manage_token(call)}/"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_client_confirms_before_cancelling_and_backing_out_changes_nothing(
    live_server, browser, manage_path, language
):
    call, path = manage_path
    words = WORDS[language]
    context = browser.new_context(locale=f"{language}-CA", timezone_id="America/Toronto")
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        with time_machine.travel(NOW):
            page.goto(live_server.url + path)
            expect(page.locator("html")).to_have_attribute("lang", language)
            expect(page.get_by_test_id("current-slot")).to_contain_text(words["current"])
            assert not serious_violations(page)

            # Backing out of the question: the call stands.
            page.get_by_test_id("cancel-call").click()
            expect(page.get_by_test_id("confirm-old")).to_contain_text(words["when"])
            assert not serious_violations(page)
            page.get_by_test_id("confirm-no").click()
            expect(page.get_by_test_id("cancel-call")).to_be_visible()
            call.appointment.refresh_from_db()
            assert call.appointment.status == Appointment.Status.BOOKED

            # Confirmed: cancelled.
            page.get_by_test_id("cancel-call").click()
            page.get_by_test_id("confirm-yes").click()
            expect(page.get_by_test_id("manage-status")).to_have_text(words["cancelled"] + ".")
            call.appointment.refresh_from_db()
            assert call.appointment.status == Appointment.Status.CANCELLED
    finally:
        context.close()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_client_sees_the_old_and_new_time_before_moving(
    live_server, browser, manage_path, language
):
    call, path = manage_path
    words = WORDS[language]
    context = browser.new_context(locale=f"{language}-CA", timezone_id="America/Toronto")
    page = context.new_page()
    page.set_default_timeout(10_000)
    new_key = datetime(2026, 6, 5, 13, 0, tzinfo=ZoneInfo("UTC")).strftime("%Y%m%dT%H%MZ")
    try:
        with time_machine.travel(NOW):
            page.goto(live_server.url + path)
            page.locator(f'button.slot[value="{new_key}"]').click()
            expect(page.get_by_test_id("confirm-old")).to_have_text(words["when"])
            expect(page.get_by_test_id("confirm-new")).to_have_text(words["new"])
            # Backing out keeps the time.
            page.get_by_test_id("confirm-no").click()
            expect(page.get_by_test_id("current-slot")).to_be_visible()
            call.appointment.refresh_from_db()
            assert call.appointment.start == THURSDAY_10

            page.locator(f'button.slot[value="{new_key}"]').click()
            page.get_by_test_id("confirm-yes").click()
            expect(page.get_by_text(words["moved"])).to_be_visible()
            call.appointment.refresh_from_db()
            assert call.appointment.start == THURSDAY_10 + timedelta(days=1, hours=-1)
            # The grid now marks the new time as the current one.
            expect(page.get_by_test_id("current-slot")).to_have_count(1)
            expect(page.get_by_test_id("manage-when")).to_contain_text(words["new"][1:])
    finally:
        context.close()
