"""A client in reconnect asks for further treatment in a real browser, in
English and in French, from the portal's next step: a new course opens in
connect and the page asks for a new screening; they say yes to peer
support contact. The page has no serious accessibility problem."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from clinic.models import Course, Stage
from clinic.tests.factories import client_create
from integration.reconnect import services
from integration.reconnect.models import ContactPreferences, FurtherTreatmentRequest
from sessions.tests.factories import in_stage
from tests.test_browser_measures import client_window

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORDS = {
    "en": {
        "sent": "Your request is sent",
        "peer": "peer support",
        "saved": "Your choices are saved.",
    },
    "fr": {
        "sent": "Votre demande est envoyée",
        "peer": "soutien par les pairs",
        "saved": "Vos choix sont enregistrés.",
    },
}


@pytest.fixture
def reconnecting(clinic_qc, therapist):
    client = client_create(clinic=clinic_qc, first_name="Olivier", last_name="Bélanger")
    course = in_stage(client, Stage.INTEGRATE)
    services.integration_plan_close(course=course, actor=therapist, summary="Done.")
    return Course.objects.get(pk=course.pk)


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_a_client_in_reconnect_requests_further_treatment(
    live_server, browser, reconnecting, locale
):
    words = WORDS[locale]
    context, page = client_window(browser, live_server, reconnecting.client.user, locale)
    try:
        page.goto(live_server.url + "/portal/")
        page.get_by_test_id("next-step-link").click()
        page.get_by_test_id("request-further").click()
        expect(page.get_by_test_id("reconnect-message")).to_contain_text(words["sent"])
        expect(page.get_by_test_id("request-made")).to_be_visible()
        expect(page.get_by_test_id("rescreen-link")).to_be_visible()
        request = FurtherTreatmentRequest.objects.get()
        assert request.new_course.stage == Stage.CONNECT
        page.get_by_label(words["peer"]).check()
        page.get_by_test_id("contact-save").click()
        expect(page.get_by_test_id("reconnect-message")).to_contain_text(words["saved"])
        assert ContactPreferences.objects.get(client=reconnecting.client).peer_support
        results = Axe().run(page)
        serious = [
            v["id"]
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert not serious, serious
    finally:
        context.close()
