"""The session record in a real browser, in English and in French: a
medical practitioner records a blood pressure over the clinic's threshold
and cannot record the dose until they confirm it; a therapist records the
vitals after the dose and at discharge, is stopped by an incomplete
checklist, then discharges the series' last session and the course moves
on to integrate."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from clinic.models import Course, Stage
from demo.dosing_record import held_session
from sessions.models import Administration, VitalsOverride
from sessions.tests.record_factories import (
    course_in,
    dose,
    minutes_ago,
    plan_for,
    session_at,
    vitals,
)
from tests.test_browser_screener import staff_context

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORDS = {
    "en": {
        "record_vitals": "Record the vitals",
        "record_dose": "Record the dose",
        "confirm": "Confirm the dose",
        "discharge": "Discharge and close the session",
        "above": "is above 140/90: a medical practitioner must confirm",
        "must_confirm": "a medical practitioner must confirm, with a reason, before the dose is given",
        "ready": "Ready for the dose.",
        "recorded": "The dose is recorded.",
        "due": "Vitals after the dose are due at",
        "discharge_vitals": "Record the vitals at discharge, then the discharge checklist.",
        "ready_discharge": "Ready for discharge: complete the checklist.",
        "tick_all": "Tick every item of the discharge checklist",
        "moved": "The series is complete: the course moved on to integrate.",
        "stage": "Integrate",
    },
    "fr": {
        "record_vitals": "Inscrire les signes vitaux",
        "record_dose": "Inscrire la dose",
        "confirm": "Confirmer la dose",
        "discharge": "Donner le congé et clore la séance",
        "above": "dépasse 140/90\u00a0: un médecin doit confirmer",
        "must_confirm": "un médecin doit confirmer, motif à l’appui, avant que la dose soit administrée",
        "ready": "Prêt pour la dose.",
        "recorded": "La dose est inscrite.",
        "due": "Les signes vitaux après la dose sont à prendre à",
        "discharge_vitals": "Inscrivez les signes vitaux au congé, puis la liste de vérification du congé.",
        "ready_discharge": "Prêt pour le congé\u00a0: remplissez la liste de vérification.",
        "tick_all": "Cochez chaque élément de la liste de vérification du congé",
        "moved": "La série est complète\u00a0: le parcours est passé à l’étape de l’intégration.",
        "stage": "Intégration",
    },
}


def open_as(browser, live_server, user, language, path):
    user.preferred_language = language
    user.save(update_fields=["preferred_language"])
    context = staff_context(browser, live_server, user)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(live_server.url + path)
    expect(page.locator("html")).to_have_attribute("lang", language)
    return context, page


def fill_vitals(page, systolic, diastolic, heart_rate=76, spo2=98):
    page.locator("#id_vitals-systolic").fill(str(systolic))
    page.locator("#id_vitals-diastolic").fill(str(diastolic))
    page.locator("#id_vitals-heart_rate").fill(str(heart_rate))
    page.locator("#id_vitals-spo2").fill(str(spo2))


def no_serious_accessibility_violation(page):
    results = Axe().run(page)
    serious = [
        f"{v['id']} ({v['impact']})"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not serious, serious


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_practitioner_cannot_record_the_dose_over_the_threshold_until_they_confirm(
    live_server, browser, client_a, therapist, medical_practitioner, language
):
    words = WORDS[language]
    course = course_in(client_a.courses.get(), Stage.DOSING)
    plan_for(course, medical_practitioner)
    session = session_at(course, therapist, medical_practitioner, start=minutes_ago(30))
    context, page = open_as(
        browser,
        live_server,
        medical_practitioner,
        language,
        f"/staff/dosing/records/sessions/{session.uuid}/",
    )
    status = page.get_by_test_id("session-status")

    fill_vitals(page, 152, 94)
    page.get_by_role("button", name=words["record_vitals"]).click()
    expect(status).to_contain_text(words["above"])

    # The dose form is there, prefilled with the plan; the service refuses it.
    expect(page.locator("#id_administration-dose_mg")).to_have_value("50.00")
    page.get_by_role("button", name=words["record_dose"]).click()
    expect(page.locator("#dose")).to_contain_text(words["must_confirm"])
    assert not Administration.objects.exists()

    page.locator("#id_confirm-reason").fill("Anxious on arrival; her baseline is in the 150s.")
    page.get_by_role("button", name=words["confirm"]).click()
    expect(status).to_have_text(words["ready"])
    no_serious_accessibility_violation(page)

    page.get_by_role("button", name=words["record_dose"]).click()
    expect(page.get_by_text(words["recorded"])).to_be_visible()
    expect(status).to_contain_text(words["due"])
    given = Administration.objects.get()
    assert (given.by, given.dose_mg, given.differs_reason) == (medical_practitioner, 50, "")
    assert VitalsOverride.objects.get().by == medical_practitioner
    context.close()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_last_session_is_discharged_and_the_course_moves_on_to_integrate(
    live_server, browser, client_a, therapist, medical_practitioner, language
):
    words = WORDS[language]
    course = course_in(client_a.courses.get(), Stage.DOSING)
    plan_for(course, medical_practitioner)
    first = session_at(
        course, therapist, medical_practitioner, start=minutes_ago(60 * 24 * 7), planned=2
    )
    held_session(session=first, therapist=therapist, practitioner=medical_practitioner)
    last = session_at(course, therapist, medical_practitioner, start=minutes_ago(90))
    vitals(last, therapist)
    dose(last, medical_practitioner, minutes_back=50)
    assert Course.objects.get(pk=course.pk).stage == Stage.DOSING

    context, page = open_as(
        browser,
        live_server,
        therapist,
        language,
        f"/staff/dosing/records/sessions/{last.uuid}/",
    )
    status = page.get_by_test_id("session-status")
    expect(status).to_contain_text(words["due"])
    expect(page.locator("#id_vitals-moment_1")).to_be_checked()  # after the dose
    fill_vitals(page, 134, 84, heart_rate=82)
    page.get_by_role("button", name=words["record_vitals"]).click()
    expect(status).to_have_text(words["discharge_vitals"])
    expect(page.locator("#id_vitals-moment_2")).to_be_checked()  # at discharge
    fill_vitals(page, 126, 80)
    page.get_by_role("button", name=words["record_vitals"]).click()
    expect(status).to_have_text(words["ready_discharge"])

    for name in ("alert_and_oriented", "vitals_in_range", "no_driving_acknowledged"):
        page.locator(f"#id_discharge-{name}").check()
    page.get_by_role("button", name=words["discharge"]).click()
    expect(page.locator("#discharge")).to_contain_text(words["tick_all"])
    assert Course.objects.get(pk=course.pk).stage == Stage.DOSING
    expect(page.locator("#id_discharge-alert_and_oriented")).to_be_checked()  # kept
    page.locator("#id_discharge-escort_or_ride").check()
    page.get_by_role("button", name=words["discharge"]).click()
    expect(page.get_by_text(words["moved"])).to_be_visible()
    assert Course.objects.get(pk=course.pk).stage == Stage.INTEGRATE
    last.refresh_from_db()
    assert last.outcome == "discharged"

    page.goto(f"{live_server.url}/staff/dosing/records/courses/{course.uuid}/")
    expect(page.locator("main")).to_contain_text(words["stage"])
    no_serious_accessibility_violation(page)
    context.close()
