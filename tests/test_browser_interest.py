"""A visitor registers their interest in a program under development, in a
real browser, in English and in French: the page asks them to check their
e-mail, the link from the mailbox leads to a confirmation button, and the
registration then counts. The pages pass the axe check."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core import mail
from playwright.sync_api import expect

from clinic.outbox import outbox_sweep
from intake.models import InterestRegistration

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = {
    "en": {
        "consent": "I agree that the clinic e-mails me when this program opens.",
        "subject": "Confirm your registration",
        "confirmed": "Your registration is confirmed",
    },
    "fr": {
        "consent": "J’accepte que la clinique m’écrive par courriel quand ce programme sera offert.",
        "subject": "Confirmez votre inscription",
        "confirmed": "Votre inscription est confirmée",
    },
}


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """The form's limit counts posts per address, and every test posts from 127.0.0.1."""
    from django.core.cache import caches

    caches["ratelimit"].delete_pattern("*")


def serious_violations(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']})"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_visitor_registers_interest_and_confirms_it_from_the_email(
    live_server, browser, clinic_qc, language
):
    text = TEXT[language]
    email = f"sam.{language}@example.com"
    context = browser.new_context(locale=f"{language}-CA")
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems = {}
    try:
        page.goto(live_server.url + "/book/interest/?concern=chronic_pain")
        expect(page.locator("html")).to_have_attribute("lang", language)
        page.locator("#id_name").fill("Sam Gagnon")
        page.locator("#id_email").fill(email)
        page.locator("#id_language").select_option(language)
        page.get_by_label(text["consent"]).check()
        problems["form"] = serious_violations(page)
        page.get_by_test_id("interest-submit").click()
        expect(page.get_by_test_id("interest-check-email")).to_be_visible()
        problems["check e-mail"] = serious_violations(page)
        assert not InterestRegistration.objects.confirmed().exists()

        outbox_sweep()
        message = next(m for m in mail.outbox if m.to == [email])
        assert message.subject == text["subject"]
        path = re.search(r"http://testserver(/book/interest/confirm/\S+/)", message.body).group(1)
        page.goto(live_server.url + path)
        problems["confirm"] = serious_violations(page)
        page.get_by_test_id("interest-confirm-submit").click()
        expect(page.get_by_test_id("interest-confirmed")).to_have_text(text["confirmed"])
        problems["confirmed"] = serious_violations(page)
    finally:
        context.close()
    assert InterestRegistration.objects.confirmed().get().email == email
    assert not any(problems.values()), problems
