"""A client prepares in a real browser, in English and in French: reads the
modules one after the other (the progress bar follows), signs the consent to
treatment with their typed name (a wrong name is refused first), declines
then gives the filming consent and withdraws it, and gives their session
preferences. With the medical assessment already cleared, the signature
completes the prepare stage and the course is in dosing. The new pages have
no serious accessibility problem in either language."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from clinic.models import Course, JourneyEvent, OutboxMessage, Stage, User
from clinic.tests.factories import client_create
from sessions import content
from sessions.models import Consent, ModuleCompletion
from sessions.services.prepare import FILMING_WITHDRAWN
from sessions.tests.factories import clear, put_in_stage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORDS = {
    "en": {
        "read": "I have read this",
        "sign": "Sign",
        "name": "Your full name",
        "agree": "I have read this document and I agree to it.",
        "decline": "I decline filming",
        "consent_filming": "I consent to filming",
        "withdraw": "Withdraw my consent to filming",
        "mismatch": "does not match the name on your account",
        "signed": "Thank you: your signature is recorded.",
        "declined": "your sessions will not be filmed",
        "withdrawn": "Your consent to filming is withdrawn.",
        "all_read": "5 of 5 modules read",
        "eye_shades": "Yes, eye shades",
        "save": "Save my preferences",
        "saved": "Your session preferences are saved.",
        "title": "What to expect",
    },
    "fr": {
        "read": "J’ai lu ce module",
        "sign": "Signer",
        "name": "Votre nom complet",
        "agree": "J’ai lu ce document et je l’accepte.",
        "decline": "Je refuse l’enregistrement vidéo",
        "consent_filming": "Je consens à l’enregistrement vidéo",
        "withdraw": "Retirer mon consentement à l’enregistrement vidéo",
        "mismatch": "ne correspond pas au nom de votre compte",
        "signed": "Merci\u00a0: votre signature est enregistrée.",
        "declined": "vos séances ne seront pas filmées",
        "withdrawn": "Votre consentement à l’enregistrement vidéo est retiré.",
        "all_read": "5 modules lus sur 5",
        "eye_shades": "Oui, un masque pour les yeux",
        "save": "Enregistrer mes préférences",
        "saved": "Vos préférences de séance sont enregistrées.",
        "title": "À quoi vous attendre",
    },
}
NEW_PAGES = [
    "/portal/preparation/",
    "/portal/preparation/modules/set-and-setting/",
    "/portal/preparation/consents/treatment/",
    "/portal/preparation/consents/filming/",
    "/portal/preparation/preferences/",
]


def client_window(browser, live_server, user, locale):
    """A browser window signed in as the client (sign-in is tested elsewhere)."""
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
def preparing(clinic_qc, medical_practitioner):
    content.install()  # a transactional test before this one flushed the migration's rows
    client = client_create(clinic=clinic_qc, first_name="Élodie", last_name="Côté")
    course = put_in_stage(client.courses.get(), Stage.PREPARE)
    clear(course, medical_practitioner)
    return course


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_a_client_reads_the_modules_signs_and_answers_the_filming_consent(
    live_server, browser, preparing, locale
):
    words = WORDS[locale]
    course = preparing
    context, page = client_window(browser, live_server, course.client.user, locale)
    base = live_server.url
    try:
        # The portal's next step leads to the preparation.
        page.goto(base + "/portal/")
        page.locator('a[href="/portal/preparation/"]').first.click()
        expect(page.get_by_test_id("module-progress")).to_contain_text("0")
        page.get_by_test_id("next-module").click()
        expect(page.get_by_test_id("module-title")).to_have_text(words["title"])

        # Each "I have read this" opens the next module; the bar follows.
        for number in range(1, 6):
            page.get_by_role("button", name=words["read"]).click()
            if number < 5:
                expect(page.get_by_role("progressbar")).to_have_attribute(
                    "aria-valuenow", str(20 * number)
                )
        expect(page).to_have_url(re.compile(r"/portal/preparation/$"))
        expect(page.get_by_test_id("module-progress")).to_have_text(words["all_read"])
        expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
        assert ModuleCompletion.objects.filter(course=course).count() == 5

        # Preferences, with the escort's phone.
        page.get_by_test_id("preferences-edit").click()
        page.get_by_label(words["eye_shades"]).check()
        page.locator("#id_escort_name").fill("Sam Roy")
        page.locator("#id_escort_phone").fill("514 555 0199")
        page.get_by_role("button", name=words["save"]).click()
        expect(page.get_by_text(words["saved"])).to_be_visible()

        # The treatment consent: a wrong name is refused, the right one signs.
        page.get_by_test_id("consent-open-treatment").click()
        page.get_by_label(words["name"]).fill("Someone Else")
        page.get_by_label(words["agree"]).check()
        page.get_by_test_id("consent-sign").click()
        expect(page.get_by_test_id("consent-error")).to_contain_text(words["mismatch"])
        assert not Consent.objects.filter(course=course).exists()
        page.get_by_label(words["name"]).fill("elodie cote")  # case and accents aside
        page.get_by_label(words["agree"]).check()
        page.get_by_test_id("consent-sign").click()
        expect(page.get_by_text(words["signed"])).to_be_visible()
        treatment = Consent.objects.get(course=course)
        assert treatment.language == locale and treatment.document.language == locale

        # The last condition met: the course is in dosing by itself.
        assert Course.objects.get(pk=course.pk).stage == Stage.DOSING
        assert JourneyEvent.objects.filter(course=course, to_stage=Stage.DOSING).exists()

        # Filming: declined, then given, then withdrawn.
        page.get_by_test_id("consent-open-filming").click()
        page.get_by_role("button", name=words["decline"]).click()
        expect(page.get_by_text(words["declined"])).to_be_visible()
        page.get_by_test_id("consent-open-filming").click()
        page.get_by_label(words["name"]).fill("Élodie Côté")
        page.get_by_label(words["agree"]).check()
        page.get_by_role("button", name=words["consent_filming"]).click()
        page.get_by_role("button", name=words["withdraw"]).click()
        expect(page.get_by_text(words["withdrawn"])).to_be_visible()
        decisions = list(
            Consent.objects.filter(course=course, document__kind="filming")
            .order_by("pk")
            .values_list("decision", flat=True)
        )
        assert decisions == ["declined", "signed", "withdrawn"]
        assert OutboxMessage.objects.filter(kind=FILMING_WITHDRAWN).count() == 1
        expect(page.get_by_test_id("consent-open-filming")).to_be_visible()
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_the_preparation_pages_have_no_serious_accessibility_violation(
    live_server, browser, preparing, locale
):
    context, page = client_window(browser, live_server, preparing.client.user, locale)
    axe = Axe()
    problems = {}
    try:
        for path in NEW_PAGES:
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
