"""A French-speaking visitor in Paris books in French, sees Montreal times
with their own time beside them, and gets errors in French."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from playwright.sync_api import expect

from clinic.outbox import outbox_sweep
from intake.tests.factories import rules, weekly_availability

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=ZoneInfo("America/Toronto"))


def test_a_french_visitor_in_another_time_zone_books_in_french(
    live_server, browser, clinic_qc, therapist
):
    rules(clinic_qc)
    weekly_availability(clinic_qc, therapist, days=range(5))
    context = browser.new_context(locale="fr-CA", timezone_id="Europe/Paris")
    page = context.new_page()
    with time_machine.travel(NOW):
        page.goto(live_server.url + "/book/")
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        page.get_by_test_id("clinic-montreal").click()
        # Montreal 9:00 is 15:00 in Paris: both are shown.
        expect(page.locator("#zone-note")).to_be_visible()
        expect(page.locator("#zone-note")).to_contain_text("Europe/Paris")
        first = page.locator("a.slot").first
        expect(first).to_contain_text("9 h 00")  # Canadian French, as the visitor's time
        expect(first).to_contain_text("15 h 00")
        first.click()
        page.locator("#id_first_name").fill("Noémie")
        page.locator("#id_last_name").fill("Tremblay")
        page.locator("#id_email").fill("noemie@example.com")
        page.locator("#id_phone").fill("12")
        page.locator("#id_concern").select_option("anxiety")
        page.locator("#id_consent_to_contact").check()
        page.get_by_test_id("book-submit").click()
        expect(page.get_by_text("Entrez un numéro de téléphone")).to_be_visible()
        page.locator("#id_phone").fill("514 555 0123")
        page.locator("#id_consent_to_contact").check()
        page.get_by_test_id("book-submit").click()
        expect(page.get_by_test_id("check-email-title")).to_be_visible()
        outbox_sweep()
        request_mail = next(m for m in mail.outbox if m.to == ["noemie@example.com"])
        assert request_mail.subject == "Confirmez votre appel d’accueil"
        confirm_path = re.search(r"http://testserver(/book/confirm/\S+/)", request_mail.body).group(
            1
        )
        page.goto(live_server.url + confirm_path)
        page.get_by_test_id("confirm-submit").click()
        expect(page.get_by_test_id("booked-title")).to_have_text(
            "Votre appel d’accueil est réservé"
        )
    context.close()
