"""A coordinator books a dosing session on the room board in a real browser,
in English and in French: clicks a free cell, fills the form, sees the block;
then sees a conflict refused (the preview warns, and a save forced anyway is
refused). The board is usable from the keyboard, readable at 390 px (a list
per room), printable as the day sheet, and has no serious accessibility
violation."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from clinic.models import Appointment, Stage
from clinic.tests.factories import RoomFactory
from sessions.services import scheduling
from sessions.tests.factories import in_stage
from tests.test_browser_screener import staff_context

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
MTL = ZoneInfo("America/Toronto")
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=MTL)
THURSDAY = "2026-06-04"

TEXT = {
    "en": {
        "kind": "Kind of appointment",
        "client": "Client",
        "therapist": "Therapist",
        "practitioner": "Medical practitioner",
        "free": "Free: the room, the people and the client are all free",
        "book_cell": "Book Salle Fleuve at 9:00 a.m.",
        "other_cell": "Book Salle Mont-Royal at 10:00 a.m.",
        "busy": "is busy 9:00 a.m.–12:00 p.m. (dosing session)",
        "refused": "cannot be booked",
        "booked": "Booked: dosing session for",
        "title": "Rooms in Montréal",
        "new": "New booking",
        "stage": "Dosing",
    },
    "fr": {
        "kind": "Type de rendez-vous",
        "client": "Client",
        "therapist": "Thérapeute",
        "practitioner": "Médecin",
        "free": "Libre\xa0: la salle, les personnes et le client sont tous libres",
        "book_cell": "Réserver Salle Fleuve à 9 h 00",
        "other_cell": "Réserver Salle Mont-Royal à 10 h 00",
        "busy": "n’est pas libre de 9 h 00 à 12 h 00 (séance de kétamine)",
        "refused": "ne peut pas être réservée",
        "booked": "Réservé\xa0: séance de kétamine pour",
        "title": "Salles de Montréal",
        "new": "Nouvelle réservation",
        "stage": "Séances de kétamine",
    },
}


@pytest.fixture
def clinic_ready(clinic_qc, coordinator, therapist, medical_practitioner, client_a, client_b):
    fleuve = RoomFactory(clinic=clinic_qc, name="Salle Fleuve", is_dosing_room=True)
    mont_royal = RoomFactory(clinic=clinic_qc, name="Salle Mont-Royal", is_dosing_room=True)
    RoomFactory(clinic=clinic_qc, name="Bureau 2", is_dosing_room=False)
    for person, (first, last) in (
        (client_a.user, ("Élodie", "Côté")),
        (client_b.user, ("Louis", "Bergeron")),
        (therapist, ("Camille", "Gagnon")),
        (medical_practitioner, ("Marc", "Lévesque")),
    ):
        person.first_name, person.last_name = first, last
        person.save()
    in_stage(client_a, Stage.DOSING)
    in_stage(client_b, Stage.DOSING)
    return {"fleuve": fleuve, "mont_royal": mont_royal}


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_coordinator_books_a_dosing_session_on_the_board_and_a_conflict_is_refused(
    live_server, browser, clinic_ready, coordinator, client_a, client_b, language
):
    text = TEXT[language]
    coordinator.preferred_language = language
    coordinator.save()
    context = staff_context(browser, live_server, coordinator)
    page = context.new_page()
    page.set_default_timeout(10_000)
    with time_machine.travel(NOW):
        page.goto(f"{live_server.url}/staff/board/?day={THURSDAY}")
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.get_by_test_id("board-title")).to_contain_text(text["title"])

        # A free cell opens the form beside the board, its room and time filled in.
        url_before = page.url
        page.get_by_role("link", name=text["book_cell"], exact=True).click()
        panel = page.locator("#board-panel")
        expect(panel.get_by_role("heading", name=text["new"])).to_be_focused()
        assert page.url == url_before  # no page load
        expect(panel.get_by_label(text["kind"])).to_have_value("dosing_session")
        expect(panel.locator("#id_time")).to_have_value("09:00")
        panel.get_by_label(text["client"], exact=True).select_option(
            label=f"Élodie Côté · {text['stage']}"
        )
        panel.get_by_label(text["therapist"], exact=True).select_option(label="Camille Gagnon")
        panel.get_by_label(text["practitioner"], exact=True).select_option(label="Marc Lévesque")
        expect(panel.get_by_test_id("conflict-free")).to_contain_text(text["free"])
        panel.get_by_test_id("booking-submit").click()
        expect(panel.get_by_test_id("done-message")).to_contain_text(text["booked"])
        # The board has reloaded itself: the block is there, with the initials.
        block = page.locator("#board .board-block").first
        expect(block).to_contain_text("É. C.")
        expect(block).to_contain_text("Camille Gagnon")
        assert page.url == url_before

        # Another room at 10:00, another client, the same therapist: the
        # preview warns, and saving anyway is refused.
        page.get_by_role("link", name=text["other_cell"], exact=True).click()
        expect(panel.get_by_role("heading", name=text["new"])).to_be_focused()
        panel.get_by_label(text["client"], exact=True).select_option(
            label=f"Louis Bergeron · {text['stage']}"
        )
        panel.get_by_label(text["therapist"], exact=True).select_option(label="Camille Gagnon")
        panel.get_by_label(text["practitioner"], exact=True).select_option(label="Marc Lévesque")
        expect(panel.get_by_test_id("conflict-warning")).to_contain_text(
            "Camille Gagnon " + text["busy"]
        )
        panel.get_by_test_id("booking-submit").click()
        expect(panel.get_by_test_id("form-error")).to_contain_text(text["refused"])
    assert Appointment.objects.count() == 1
    context.close()


def test_the_board_is_usable_from_the_keyboard_readable_small_and_printable(
    live_server, browser, clinic_ready, coordinator, client_a, therapist, medical_practitioner
):
    with time_machine.travel(NOW):
        course = client_a.courses.get()
        scheduling.dosing_sessions_book(
            course=course,
            starts=[datetime(2026, 6, 4, 9, 0, tzinfo=MTL)],
            team=scheduling.DosingTeam(
                room=clinic_ready["fleuve"], therapist=therapist, practitioner=medical_practitioner
            ),
            actor=coordinator,
        )
    context = staff_context(browser, live_server, coordinator)
    page = context.new_page()
    page.set_default_timeout(10_000)
    with time_machine.travel(NOW):
        page.goto(f"{live_server.url}/staff/board/?day={THURSDAY}")
        # Keyboard: a block is a link with a name; Enter opens its details, focused.
        block = page.locator("#board .board-block").first
        block.focus()
        page.keyboard.press("Enter")
        heading = page.get_by_test_id("detail-title")
        expect(heading).to_be_focused()
        expect(heading).to_have_text("Dosing session")
        # Escape closes the panel and gives the focus back to the block.
        page.keyboard.press("Escape")
        expect(page.locator("#board-panel")).to_be_empty()
        expect(block).to_be_focused()
        # A free slot is reached with Tab and opens the form with Enter.
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.textContent")
        assert focused.strip().startswith("+")
        page.keyboard.press("Enter")
        expect(page.locator("#board-panel h2")).to_be_focused()

        # Printed: the day sheet is the list per room, without the grid or the controls.
        page.emulate_media(media="print")
        expect(page.locator(".board-grid")).to_be_hidden()
        expect(page.locator(".board-list")).to_be_visible()
        expect(page.locator(".board-controls")).to_be_hidden()
        expect(page.locator(".board-list")).to_contain_text("É. C.")
        page.emulate_media(media="screen")

        # At 390 px: a list per room instead of the grid.
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        expect(page.locator(".board-grid")).to_be_hidden()
        small = page.locator(".board-list")
        expect(small).to_be_visible()
        expect(small.get_by_role("heading", name="Salle Fleuve")).to_be_visible()
        expect(small).to_contain_text("9:00 a.m.–12:00 p.m. · Dosing session · É. C.")
        no_scroll = page.evaluate("document.documentElement.scrollWidth <= 390")
        assert no_scroll, "the page scrolls sideways at 390 px"
        small.get_by_role("link", name="Book Salle Fleuve at 12:30 p.m.").click()
        expect(page.locator("#board-panel h2")).to_be_focused()
    context.close()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_board_has_no_serious_accessibility_violation(
    live_server,
    browser,
    clinic_ready,
    coordinator,
    client_a,
    therapist,
    medical_practitioner,
    language,
):
    with time_machine.travel(NOW):
        scheduling.dosing_sessions_book(
            course=client_a.courses.get(),
            starts=[datetime(2026, 6, 4, 9, 0, tzinfo=MTL)],
            team=scheduling.DosingTeam(
                room=clinic_ready["fleuve"], therapist=therapist, practitioner=medical_practitioner
            ),
            actor=coordinator,
        )
    coordinator.preferred_language = language
    coordinator.save()
    context = staff_context(browser, live_server, coordinator)
    page = context.new_page()
    page.set_default_timeout(10_000)
    axe = Axe()
    problems = {}
    with time_machine.travel(NOW):
        for label, path, width in (
            ("day", f"/staff/board/?day={THURSDAY}", 1280),
            ("day, 390 px", f"/staff/board/?day={THURSDAY}", 390),
            ("week", f"/staff/board/week/?day={THURSDAY}", 1280),
        ):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(live_server.url + path)
            if label == "day":
                # With the booking form open in the panel.
                page.locator("a.free-cell").nth(30).click()
                expect(page.locator("#booking-check p")).to_be_visible()
            results = axe.run(page)
            serious = [
                f"{v['id']} ({v['impact']}): {len(v['nodes'])} node(s) {v['nodes'][0]['target']}"
                for v in results.response["violations"]
                if v["impact"] in ("serious", "critical")
            ]
            if serious:
                problems[label] = serious
    context.close()
    assert not problems, problems
