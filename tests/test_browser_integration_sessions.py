"""A client picks an integration time after a dosing session in a real
browser, in English and in French: from the portal's link to their
integration sessions, a time in the list, the confirm page, and the
session then shown in their portal. The pages have no serious
accessibility problem."""

from datetime import datetime, time, timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from clinic.models import Appointment, AppointmentKind
from clinic.tests.factories import client_create
from integration.tests.individual_factories import held_dosing
from tests.test_browser_measures import client_window

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORDS = {
    "en": {"link": "My integration sessions", "booked": "The integration session is booked."},
    "fr": {"link": "Mes séances d’intégration", "booked": "La séance d’intégration est réservée."},
}


@pytest.fixture
def after_dosing(clinic_qc, therapist, medical_practitioner):
    client = client_create(clinic=clinic_qc, first_name="Camille", last_name="Roy")
    yesterday = timezone.localtime(timezone.now(), clinic_qc.zone).date() - timedelta(days=1)
    start = datetime.combine(yesterday, time(9), tzinfo=clinic_qc.zone)
    return held_dosing(client, therapist, medical_practitioner, start=start)


def serious_problems(page) -> list[str]:
    results = Axe().run(page)
    return [
        v["id"] for v in results.response["violations"] if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_a_client_picks_an_integration_time_after_a_dosing_session(
    live_server, browser, after_dosing, locale
):
    words = WORDS[locale]
    user = after_dosing.appointment.client.user
    context, page = client_window(browser, live_server, user, locale)
    try:
        page.goto(live_server.url + "/portal/")
        page.get_by_role("link", name=words["link"]).click()
        slots = page.get_by_test_id("slot")
        expect(slots.first).to_be_visible()
        assert not serious_problems(page)
        chosen = slots.nth(1).inner_text()
        slots.nth(1).click()
        expect(page.get_by_test_id("confirm-time")).to_contain_text(chosen)
        assert not serious_problems(page)
        page.get_by_test_id("confirm-booking").click()
        expect(page.get_by_test_id("integration-message")).to_contain_text(words["booked"])
        expect(page.get_by_test_id("booked-session")).to_contain_text(chosen)
        booked = Appointment.objects.get(
            kind=AppointmentKind.INTEGRATION_SESSION, status=Appointment.Status.BOOKED
        )
        assert booked.client_id == after_dosing.appointment.client_id
    finally:
        context.close()
