"""A new staff member, in a real browser, in English and in French: opens
the invitation e-mailed to them, signs in with their password, enrols an
authenticator app (the test computes its code from the key the page shows),
sees their recovery codes and goes on to the staff pages. The password is
asked once, whether they open the link first or sign in first."""

import re
import time

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from axe_playwright_python.sync_playwright import Axe
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from clinic.invitations import staff_invitation_issue
from clinic.outbox import outbox_sweep

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-test-passphrase"

TEXT = {
    "en": {
        "set_up": "Set up two-factor authentication",
        "password": "Password",
        "continue": "Continue",
        "key": "Key to type in if you cannot scan",
        "code": "Code from your authenticator app",
        "turn_on": "Turn on two-factor authentication",
        "done": "Two-factor authentication is on",
        "saved": "I have saved my codes: continue to my work",
        "email": "Email",
        "sign_in": "Sign In",
        "needed": "Your account needs an invitation",
        "signed_in": "Successfully signed in as",
        "courses": "Courses",
        "subject": "Set up two-factor authentication for",
    },
    "fr": {
        "set_up": "Configurer l’authentification à deux facteurs",
        "password": "Mot de passe",
        "continue": "Continuer",
        "key": "Clé à saisir si vous ne pouvez pas scanner",
        "code": "Code de votre application d’authentification",
        "turn_on": "Activer l’authentification à deux facteurs",
        "done": "L’authentification à deux facteurs est activée",
        "saved": "J’ai noté mes codes : continuer vers mon travail",
        "email": "Courriel",
        "sign_in": "Connexion",
        "needed": "Votre compte a besoin d’une invitation",
        "signed_in": "Connexion avec",
        "courses": "Parcours",
        "subject": "Configurez l’authentification à deux facteurs pour",
    },
}


def current_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def serious_violations(axe, page) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): {len(v['nodes'])} node(s)"
        for v in axe.run(page).response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def enrol_through_invitation(page, base: str, link: str, text: dict, axe=None) -> list[str]:
    """Follow an invitation link to the staff pages; returns the accessibility
    problems seen on the way (when given an Axe)."""
    problems = []
    page.goto(base + link.removeprefix("http://testserver"))
    expect(page.get_by_role("heading", name=text["set_up"])).to_be_visible()
    if axe:
        problems += serious_violations(axe, page)
    page.get_by_label(text["password"]).fill(PASSWORD)
    page.get_by_role("button", name=text["continue"]).click()
    return problems + enrol_signed_in(page, text, axe)


def enrol_signed_in(page, text: dict, axe=None) -> list[str]:
    """The enrolment page of a person signed in: the app's key and code, never
    the password again (no "confirm access")."""
    problems = []
    key = page.get_by_label(text["key"])
    expect(key).to_be_visible()
    expect(page.locator("input[type=password]")).to_have_count(0)
    if axe:
        problems += serious_violations(axe, page)
    # The clock stands still from the code to its check: a code computed
    # just before a 30-second boundary would otherwise fail by chance.
    with time_machine.travel(timezone.now(), tick=False):
        page.get_by_label(text["code"]).fill(current_code(key.input_value()))
        page.get_by_role("button", name=text["turn_on"]).click()
        expect(page.get_by_role("heading", name=text["done"])).to_be_visible()
    expect(page.locator("input[type=password]")).to_have_count(0)
    if axe:
        problems += serious_violations(axe, page)
    return problems


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_new_staff_member_enrols_through_the_invitation(
    live_server, browser, therapist, privacy_officer, language
):
    therapist.preferred_language = language
    therapist.save(update_fields=["preferred_language"])
    staff_invitation_issue(user=therapist, actor=privacy_officer)
    outbox_sweep()
    (invitation_mail,) = mail.outbox
    text = TEXT[language]
    assert invitation_mail.subject.startswith(text["subject"])
    link = re.search(r"http://testserver/accounts/invitation/\S+/", invitation_mail.body).group(0)

    context = browser.new_context(locale=f"{language}-CA")
    page = context.new_page()
    try:
        problems = enrol_through_invitation(page, live_server.url, link, text, axe=Axe())
        expect(page.locator("html")).to_have_attribute("lang", language)
        codes = page.get_by_role("list", name=re.compile("Recovery codes|Codes de récupération"))
        expect(codes.get_by_role("listitem")).to_have_count(10)
        page.get_by_role("link", name=text["saved"]).click()
        expect(page.get_by_role("heading", name=text["courses"])).to_be_visible()
        assert Authenticator.objects.filter(user=therapist, type="totp").exists()

        # The link worked once: opened again, it says so.
        page.goto(live_server.url + link.removeprefix("http://testserver"))
        expect(page.locator("main")).to_contain_text(
            "already been used" if language == "en" else "déjà été utilisée"
        )
    finally:
        context.close()
    assert not problems, problems


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_new_staff_member_who_signs_in_first_gives_the_password_once(
    live_server, browser, therapist, privacy_officer, language
):
    """Signed in on the usual page first: the gate keeps the staff pages
    closed and points at the invitation; its link then goes straight to the
    app's set-up, and the recovery codes lead on to the staff pages."""
    therapist.preferred_language = language
    therapist.save(update_fields=["preferred_language"])
    staff_invitation_issue(user=therapist, actor=privacy_officer)
    outbox_sweep()
    link = re.search(r"http://testserver(/accounts/invitation/\S+/)", mail.outbox[0].body).group(1)
    text = TEXT[language]
    context = browser.new_context(locale=f"{language}-CA")
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(live_server.url + "/accounts/login/")
        page.get_by_label(text["email"]).fill(therapist.email)
        page.get_by_label(text["password"], exact=True).fill(PASSWORD)
        page.get_by_role("button", name=text["sign_in"]).click()
        expect(page.get_by_role("heading", name=text["needed"])).to_be_visible()
        expect(page.locator("main")).to_contain_text(text["signed_in"])
        # The password alone opens no staff page.
        page.goto(live_server.url + "/staff/")
        expect(page.get_by_role("heading", name=text["needed"])).to_be_visible()
        page.goto(live_server.url + "/admin/")
        expect(page.get_by_role("heading", name=text["needed"])).to_be_visible()

        page.goto(live_server.url + link)
        assert not enrol_signed_in(page, text)
        expect(
            page.get_by_role(
                "list", name=re.compile("Recovery codes|Codes de récupération")
            ).get_by_role("listitem")
        ).to_have_count(10)
        page.get_by_test_id("continue-to-work").click()
        expect(page.get_by_role("heading", name=text["courses"])).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", language)
    finally:
        context.close()
