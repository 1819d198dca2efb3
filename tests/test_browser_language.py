"""Signing in from a page in one language when the account reads the other:
the next page and its "signed in" message are both in the account's
language (and the reverse)."""

import pytest
from playwright.sync_api import expect

from clinic.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-test-passphrase"
SIGN_IN = {
    "en": {"email": "Email", "password": "Password", "button": "Sign In"},
    "fr": {"email": "Courriel", "password": "Mot de passe", "button": "Connexion"},
}
SIGNED_IN = {"en": "Successfully signed in as", "fr": "Connexion avec"}


@pytest.mark.parametrize(("page_language", "own_language"), [("fr", "en"), ("en", "fr")])
def test_the_message_after_signing_in_is_in_the_language_of_the_page_showing_it(
    live_server, browser, client_a, page_language, own_language
):
    User.objects.filter(pk=client_a.user_id).update(preferred_language=own_language)
    context = browser.new_context(locale=f"{page_language}-CA")
    page = context.new_page()
    page.set_default_timeout(10_000)
    words = SIGN_IN[page_language]
    try:
        page.goto(live_server.url + "/accounts/login/")
        expect(page.locator("html")).to_have_attribute("lang", page_language)
        page.get_by_label(words["email"]).fill(client_a.user.email)
        page.get_by_label(words["password"], exact=True).fill(PASSWORD)
        page.get_by_role("button", name=words["button"]).click()
        expect(page.locator("html")).to_have_attribute("lang", own_language)
        expect(page.get_by_text(SIGNED_IN[own_language])).to_be_visible()
        expect(page.get_by_text(SIGNED_IN[page_language])).to_have_count(0)
    finally:
        context.close()
