"""A client answers a follow-up questionnaire in a real browser, in English
and in French, from the portal's home, and sees their chart with the new
score in its table; the pages have no serious accessibility problem."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from clinic.models import Stage, User
from clinic.tests.factories import client_create
from integration.measures.models import MeasureInvitation
from integration.tests.measure_factories import answers_scoring, baseline, follow_up
from sessions.tests.factories import in_stage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORDS = {
    "en": {"saved": "Thank you: your answers are saved.", "source": "Follow-up, 7 days after"},
    "fr": {
        "saved": "Merci\u00a0: vos réponses sont enregistrées.",
        "source": "Suivi, 7 jours après",
    },
}


def client_window(browser, live_server, user, locale):
    User.objects.filter(pk=user.pk).update(preferred_language=locale)
    web = Client()
    web.force_login(user)
    context = browser.new_context(locale=f"{locale}-CA")
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": web.session.session_key,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page


@pytest.fixture
def integrating(clinic_qc):
    client = client_create(clinic=clinic_qc, first_name="Léa", last_name="Caron")
    course = in_stage(client, Stage.INTEGRATE)
    baseline(course, phq9=16, gad7=12)
    return follow_up(course, days=7)


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_a_client_answers_a_follow_up_and_sees_their_chart(
    live_server, browser, integrating, locale
):
    invitation = integrating
    context, page = client_window(browser, live_server, invitation.client.user, locale)
    try:
        page.goto(live_server.url + "/portal/")
        page.get_by_test_id("portal-questionnaires").click()
        expect(page).to_have_url(re.compile(r"/portal/questionnaires/$"))
        page.get_by_test_id("answer-link").click()
        # Leaving one question out is refused, the answers given are kept.
        phq9, gad7 = answers_scoring(7, 9), answers_scoring(5, 7)
        for i, value in enumerate(phq9[:-1]):
            page.locator(f'input[name="phq9-item_{i + 1}"][value="{value}"]').check()
        for i, value in enumerate(gad7):
            page.locator(f'input[name="gad7-item_{i + 1}"][value="{value}"]').check()
        page.get_by_test_id("answer-send").click()
        expect(page.get_by_test_id("answer-error")).to_be_visible()
        assert MeasureInvitation.objects.get(pk=invitation.pk).answered_at is None
        expect(page.locator('input[name="gad7-item_1"][value="3"]')).to_be_checked()
        page.locator('input[name="phq9-item_9"][value="0"]').check()
        page.get_by_test_id("answer-send").click()
        expect(page.get_by_test_id("measures-message")).to_contain_text(WORDS[locale]["saved"])
        table = page.get_by_test_id("table-phq9")
        expect(table).to_contain_text(WORDS[locale]["source"])
        expect(table.locator("tbody tr")).to_have_count(2)
        expect(table.locator("tbody tr").nth(1)).to_contain_text("7")
        expect(page.get_by_test_id("svg-phq9").locator("circle")).to_have_count(2)
        # Nothing left to answer.
        expect(page.get_by_test_id("answer-link")).to_have_count(0)
        answered = MeasureInvitation.objects.select_related("phq9").get(pk=invitation.pk)
        assert answered.phq9.score == 7
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_the_questionnaire_pages_have_no_serious_accessibility_violation(
    live_server, browser, integrating, locale
):
    context, page = client_window(browser, live_server, integrating.client.user, locale)
    axe = Axe()
    problems = {}
    try:
        for path in ("/portal/questionnaires/", f"/portal/questionnaires/{integrating.uuid}/"):
            page.goto(live_server.url + path)
            expect(page.locator("html")).to_have_attribute("lang", locale)
            serious = [
                f"{v['id']} ({v['impact']}): {len(v['nodes'])} node(s)"
                for v in axe.run(page).response["violations"]
                if v["impact"] in ("serious", "critical")
            ]
            if serious:
                problems[path] = serious
    finally:
        context.close()
    assert not problems, problems
