"""A visitor on the public site, in a real browser."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PUBLIC_PATHS = ["/", "/program/", "/conditions/", "/team/", "/faq/", "/book/"]


def test_a_visitor_switches_to_french_and_follows_the_call_to_action(
    live_server, page, clinic_qc, clinic_bc
):
    page.goto(live_server.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_test_id("language-fr").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.get_by_test_id("cta-book").click()
    expect(page).to_have_url(re.compile(r"/book/$"))
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_test_id("book-title")).to_be_visible()
    # The French page really is French: the call to action in the nav is translated.
    expect(page.get_by_role("link", name="Réserver un appel d’accueil").first).to_be_visible()


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_public_pages_have_no_serious_accessibility_violation(
    live_server, browser, clinic_qc, clinic_bc, locale
):
    context = browser.new_context(locale=f"{locale}-CA")
    page = context.new_page()
    axe = Axe()
    problems = {}
    try:
        for path in PUBLIC_PATHS:
            page.goto(live_server.url + path)
            expect(page.locator("html")).to_have_attribute("lang", locale)
            results = axe.run(page)
            serious = [
                f"{v['id']} ({v['impact']}): {len(v['nodes'])} node(s)"
                for v in results.response["violations"]
                if v["impact"] in ("serious", "critical")
            ]
            if serious:
                problems[path] = serious
    finally:
        context.close()
    assert not problems, problems
