"""Messages are in the language of the page that shows them: a person signed
in sees the site in their own language, whatever language the sign-in page
was in, and the message that says so is in that language too."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from clinic.models import User

PASSWORD = "a-long-test-passphrase"
SIGNED_IN = {"en": "Successfully signed in as", "fr": "Connexion avec"}
SIGNED_OUT = {"en": "You have signed out.", "fr": "Vous êtes déconnecté(e)."}


def browser_in(language: str) -> Client:
    browser = Client(HTTP_ACCEPT_LANGUAGE=language)
    browser.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return browser


@pytest.mark.parametrize(("page_language", "own_language"), [("fr", "en"), ("en", "fr")])
def test_the_page_after_signing_in_and_its_message_share_the_persons_language(
    client_a, page_language, own_language
):
    User.objects.filter(pk=client_a.user_id).update(preferred_language=own_language)
    browser = browser_in(page_language)
    assert (
        f'<html lang="{page_language}">' in browser.get(reverse("account_login")).content.decode()
    )
    response = browser.post(
        reverse("account_login"),
        {"login": client_a.user.email, "password": PASSWORD},
        follow=True,
    )
    page = response.content.decode()
    assert f'<html lang="{own_language}">' in page
    assert SIGNED_IN[own_language] in page
    assert SIGNED_IN[page_language] not in page


def test_the_page_after_signing_out_and_its_message_share_the_persons_language(client_a):
    User.objects.filter(pk=client_a.user_id).update(preferred_language="fr")
    browser = browser_in("en")
    browser.post(reverse("account_login"), {"login": client_a.user.email, "password": PASSWORD})
    page = browser.post(reverse("account_logout"), follow=True).content.decode()
    assert '<html lang="fr">' in page
    assert SIGNED_OUT["fr"] in page


def test_switching_language_when_signed_in_keeps_the_new_choice(client, client_a):
    client.force_login(client_a.user)
    client.post(reverse("set_language"), {"language": "fr", "next": "/portal/"})
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    assert '<html lang="fr">' in client.get(reverse("portal:home")).content.decode()
