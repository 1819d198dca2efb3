"""Integration groups in a real browser, in English and in French: a
coordinator schedules a weekly group and then sees a room conflict refused;
a client enrols, another lands on the waitlist of the full group and is
promoted when a place frees; a facilitator takes attendance on a phone
(390 px, no sideways scroll). No serious accessibility violation."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from axe_playwright_python.sync_playwright import Axe
from django.core import mail
from playwright.sync_api import expect

from clinic.models import Stage
from clinic.outbox import outbox_sweep
from clinic.tests.factories import client_create
from integration.groups import services
from integration.groups.models import Attendance, IntegrationGroup
from integration.tests.group_factories import group_room, in_stage, weekly_group
from tests.test_browser_prepare import client_window
from tests.test_browser_screener import staff_context

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
MTL = ZoneInfo("America/Toronto")
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=MTL)

TEXT = {
    "en": {
        "schedule": "Schedule the group",
        "scheduled": "The group is scheduled: 8 meetings.",
        "conflict": "Salle Cercle is taken",
        "nothing": "nothing was scheduled",
        "enrol": "Enrol",
        "enrolled": "You are enrolled.",
        "waitlist": "Join the waitlist",
        "position": "You are on the waitlist, at position 1.",
        "full": "Full",
        "leave": "Leave the group",
        "present": "present",
        "excused": "excused",
        "save": "Save attendance",
        "saved": "Attendance is saved.",
        "promoted_subject": "A place is yours",
    },
    "fr": {
        "schedule": "Planifier le groupe",
        "scheduled": "Le groupe est planifié\xa0: 8 rencontres.",
        "conflict": "Salle Cercle",
        "nothing": "rien n’a été planifié",
        "enrol": "S’inscrire",
        "enrolled": "Vous êtes inscrit.",
        "waitlist": "S’inscrire sur la liste d’attente",
        "position": "Vous êtes sur la liste d’attente, au rang 1.",
        "full": "Complet",
        "leave": "Quitter le groupe",
        "present": "présent",
        "excused": "excusé",
        "save": "Enregistrer les présences",
        "saved": "Les présences sont enregistrées.",
        "promoted_subject": "Une place est à vous",
    },
}


def serious_violations(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def fill_group(page, *, name: str):
    page.locator("[name=name_en]").fill(name)
    page.locator("[name=name_fr]").fill(f"{name} (fr)")
    page.locator("select[name=language]").select_option("fr")
    page.locator("[name=capacity]").fill("8")
    page.get_by_label("Camille Gagnon").check()
    page.locator("[name=room]").select_option(label="Salle Cercle")
    page.locator("[name=first_day]").fill("2026-06-02")
    page.locator("[name=starts_at]").fill("18:00")
    page.locator("[name=ends_at]").fill("19:30")
    page.locator("[name=count]").fill("8")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_coordinator_schedules_a_weekly_group_and_a_room_conflict_is_refused(
    live_server, browser, clinic_qc, coordinator, therapist, language
):
    text = TEXT[language]
    group_room(clinic_qc)
    therapist.first_name, therapist.last_name = "Camille", "Gagnon"
    therapist.save()
    coordinator.preferred_language = language
    coordinator.save()
    context = staff_context(browser, live_server, coordinator)
    page = context.new_page()
    page.set_default_timeout(10_000)
    with time_machine.travel(NOW):
        page.goto(f"{live_server.url}/staff/groups/")
        expect(page.locator("html")).to_have_attribute("lang", language)
        page.get_by_test_id("new-group").click()
        fill_group(page, name="Tuesday circle")
        assert not serious_violations(page)
        page.get_by_role("button", name=text["schedule"]).click()
        expect(page.get_by_text(text["scheduled"])).to_be_visible()
        expect(page.get_by_test_id("meetings").locator("tbody tr")).to_have_count(8)

        # The same room, the same evenings: every meeting conflicts, nothing is written.
        page.goto(f"{live_server.url}/staff/groups/new/")
        fill_group(page, name="Second circle")
        page.get_by_role("button", name=text["schedule"]).click()
        conflicts = page.get_by_test_id("conflicts")
        expect(conflicts).to_contain_text(text["conflict"])
        expect(conflicts).to_contain_text(text["nothing"])
        expect(conflicts.locator("li")).to_have_count(8)
    context.close()
    assert IntegrationGroup.objects.count() == 1


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_client_lands_on_the_waitlist_of_a_full_group_and_is_promoted_when_a_place_frees(
    live_server, browser, clinic_qc, coordinator, therapist, language
):
    text = TEXT[language]
    with time_machine.travel(NOW, tick=False):
        weekly_group(
            clinic=clinic_qc, coordinator=coordinator, facilitators=[therapist], capacity=1
        )
    first = client_create(clinic=clinic_qc, first_name="Élodie", last_name="Côté")
    second = client_create(clinic=clinic_qc, first_name="Louis", last_name="Bergeron")
    for person in (first, second):
        in_stage(person, Stage.INTEGRATE)
    with time_machine.travel(NOW):
        context_1, page_1 = client_window(browser, live_server, first.user, language)
        page_1.goto(f"{live_server.url}/portal/groups/")
        expect(page_1.get_by_test_id("places-left")).to_contain_text("1")
        page_1.get_by_role("button", name=text["enrol"], exact=True).click()
        expect(page_1.get_by_test_id("enrolled")).to_contain_text(text["enrolled"])

        context_2, page_2 = client_window(browser, live_server, second.user, language)
        page_2.goto(f"{live_server.url}/portal/groups/")
        expect(page_2.get_by_test_id("places-left")).to_have_text(text["full"])
        assert not serious_violations(page_2)
        page_2.get_by_role("button", name=text["waitlist"]).click()
        expect(page_2.get_by_test_id("waitlist-position")).to_have_text(text["position"])

        # The first leaves: the place goes to the one waiting, at once.
        page_1.reload()
        page_1.get_by_role("button", name=text["leave"]).click()
        page_2.reload()
        expect(page_2.get_by_test_id("enrolled")).to_contain_text(text["enrolled"])
        outbox_sweep()
    assert [m.to for m in mail.outbox] == [[second.user.email]]
    assert text["promoted_subject"] in mail.outbox[0].subject
    context_1.close()
    context_2.close()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_facilitator_takes_attendance_on_a_phone(
    live_server, browser, clinic_qc, coordinator, therapist, language
):
    text = TEXT[language]
    with time_machine.travel(NOW, tick=False):
        group = weekly_group(clinic=clinic_qc, coordinator=coordinator, facilitators=[therapist])
        people = []
        for first, last in (("Élodie", "Côté"), ("Louis", "Bergeron")):
            person = client_create(clinic=clinic_qc, first_name=first, last_name=last)
            in_stage(person, Stage.INTEGRATE)
            people.append(services.group_enrol(group=group, client=person))
    meeting = group.meetings.get(number=1)
    therapist.preferred_language = language
    therapist.save()
    context = staff_context(browser, live_server, therapist)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.set_viewport_size({"width": 390, "height": 844})
    with time_machine.travel(meeting.appointment.start + timedelta(minutes=10)):
        page.goto(f"{live_server.url}/staff/groups/meetings/{meeting.uuid}/attendance/")
        rows = page.get_by_test_id("attendance-row")
        expect(rows).to_have_count(2)
        assert page.evaluate("document.documentElement.scrollWidth <= 390")
        assert not serious_violations(page)
        rows.filter(has_text="Côté").get_by_text(text["present"], exact=True).click()
        rows.filter(has_text="Bergeron").get_by_text(text["excused"], exact=True).click()
        page.get_by_role("button", name=text["save"]).click()
        expect(page.get_by_text(text["saved"])).to_be_visible()
        page.goto(f"{live_server.url}/staff/groups/{group.uuid}/")
        expect(page.get_by_test_id("attendance-rate")).to_contain_text("50")
    context.close()
    marks = dict(Attendance.objects.values_list("enrolment__client__user__last_name", "mark"))
    assert marks == {"Côté": "present", "Bergeron": "excused"}
