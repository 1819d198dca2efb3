"""A client's portal in a real browser, in English and in French, as their
course goes through connect: nothing done, a call booked, the screener
sent, more information asked and answered, then the call held and an
eligible decision that moves them on. At each step the portal's next step
and its list say where they are, and the header stops offering an intake
call once one is booked."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from clinic.models import Appointment, Course, Stage, User
from eligibility import services
from eligibility.tests.factories import sent_screening
from intake.tests.factories import held_intake_call

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-test-passphrase"

WORDS = {
    "en": {
        "book": "Book your free intake call",
        "fill": "Fill in the eligibility screener",
        "booked": "Your intake call is booked",
        "asked": "Our clinical team asks for more information",
        "answer": "Answer in the screener",
        "reviewing": "a clinician is reviewing your answers",
        "prepare": "Prepare for your sessions",
        "not_booked": "Not booked yet",
        "booked_for": "Booked for",
        "not_started": "Not started",
        "send": "Send my answers",
        "sent_twice": "Sending 2",
    },
    "fr": {
        "book": "Réservez votre appel d’accueil gratuit",
        "fill": "Remplissez le questionnaire d’admissibilité",
        "booked": "Votre appel d’accueil est réservé",
        "asked": "Notre équipe clinique vous demande des renseignements supplémentaires",
        "answer": "Répondre dans le questionnaire",
        "reviewing": "un membre de l’équipe clinique examine vos réponses",
        "prepare": "Préparez-vous à vos séances",
        "not_booked": "Pas encore réservé",
        "booked_for": "Réservé pour",
        "not_started": "Pas commencé",
        "send": "Envoyer mes réponses",
        "sent_twice": "Envoi 2",
    },
}


def no_serious_accessibility_violation(page):
    results = Axe().run(page)
    serious = [
        f"{v['id']} ({v['impact']})"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not serious, serious


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_portal_follows_the_client_through_connect(
    live_server, browser, client_a, therapist, language
):
    words = WORDS[language]
    User.objects.filter(pk=client_a.user_id).update(preferred_language=language)
    course = client_a.courses.get()
    context = browser.new_context(locale=f"{language}-CA")
    page = context.new_page()
    page.set_default_timeout(10_000)
    portal = live_server.url + "/portal/"

    page.goto(live_server.url + "/accounts/login/")
    page.locator('input[name="login"]').fill(client_a.user.email)
    page.locator('input[name="password"]').fill(PASSWORD)
    page.locator('main form button[type="submit"]').click()
    expect(page).to_have_url(re.compile(r"/portal/$"))
    expect(page.locator("html")).to_have_attribute("lang", language)

    def next_step():
        return page.locator("#next-step-title")

    tasks = page.get_by_test_id("stage-tasks")
    header_book = page.get_by_test_id("header-book")

    # Nothing done yet: book the call; the screener is already within reach.
    expect(next_step()).to_have_text(words["book"])
    expect(tasks).to_contain_text(words["not_booked"])
    expect(tasks).to_contain_text(words["not_started"])
    expect(header_book).to_be_visible()
    no_serious_accessibility_violation(page)

    # A call booked: the screener is the next step meanwhile; no second call offered.
    call = held_intake_call(course, therapist, days_ago=-3)
    Appointment.objects.filter(pk=call.appointment_id).update(status=Appointment.Status.BOOKED)
    page.goto(portal)
    expect(next_step()).to_have_text(words["fill"])
    expect(tasks).to_contain_text(words["booked_for"])
    expect(header_book).to_have_count(0)

    # The screener sent: the call is what comes next, the answers are being reviewed.
    screening = sent_screening(client_a)
    page.goto(portal)
    expect(next_step()).to_have_text(words["booked"])
    expect(tasks).to_contain_text(words["reviewing"])

    # More information asked: that comes first, and leads to the screener.
    services.decision_record(
        screening=screening,
        clinician=therapist,
        kind="more_information",
        note="Tell us about your medications.",
    )
    page.goto(portal)
    expect(next_step()).to_have_text(words["asked"])
    no_serious_accessibility_violation(page)
    page.get_by_test_id("next-step-link").click()
    expect(page).to_have_url(re.compile(r"/portal/screening/review/$"))
    expect(page.get_by_test_id("information-requested")).to_contain_text(
        "Tell us about your medications."
    )
    page.get_by_role("button", name=words["send"]).click()
    expect(page.get_by_test_id("submitted-title")).to_be_visible()
    expect(page.get_by_text(re.compile(words["sent_twice"]))).to_be_visible()
    page.goto(portal)
    expect(next_step()).to_have_text(words["booked"])
    expect(tasks).to_contain_text(words["reviewing"])

    # The call held and an eligible decision: the client moves on to prepare.
    Appointment.objects.filter(pk=call.appointment_id).update(status=Appointment.Status.HELD)
    services.decision_record(screening=screening, clinician=therapist, kind="eligible", note="Fit.")
    assert Course.objects.get(pk=course.pk).stage == Stage.PREPARE
    page.goto(portal)
    expect(next_step()).to_have_text(words["prepare"])
    expect(tasks).to_have_count(0)
    expect(header_book).to_have_count(0)
    context.close()
