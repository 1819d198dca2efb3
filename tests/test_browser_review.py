"""The clinician's review of screenings in the admin, in a real browser, in
English and in French: from the queue (risk first, waiting by default) to a
decision on a crisis-flagged screening without scrolling at 1280 px, and the
decision then shows in the queue. The staff admin pages pass the axe check.

With SHOTS_DIR set, the queue and the review are also saved as screenshots
at 1280 and 390 px, to be looked at by eye."""

import os
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth import get_user_model
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from playwright.sync_api import expect

from clinic.tests.factories import client_create
from eligibility import screener
from eligibility.models import Decision, Screening
from eligibility.tests.factories import decide, sent_screening
from intake.tests.factories import held_intake_call
from tests.test_browser_screener import staff_context

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDE = {"width": 1280, "height": 800}
NARROW = {"width": 390, "height": 844}


def shot(page, name: str) -> None:
    folder = os.environ.get("SHOTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)
        page.screenshot(path=str(Path(folder) / f"{name}-first-screen.png"))


def serious_violations(page) -> list[str]:
    return [
        f"{page.url}: {v['id']} ({v['impact']}): {v['nodes'][0]['target']}"
        for v in Axe().run(page).response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def fits_the_width(page, selector: str) -> bool:
    """Nothing of the element runs past the window's right edge, and nothing
    inside it scrolls sideways."""
    return page.evaluate(
        """(selector) => {
            const el = document.querySelector(selector);
            const box = el.getBoundingClientRect();
            const scroller = el.closest('.results') || el.parentElement;
            return box.right <= window.innerWidth + 0.5
                && scroller.scrollWidth <= scroller.clientWidth + 1;
        }""",
        selector,
    )


@pytest.fixture
def queue(clinic_qc, client_a):
    """Three screenings waiting (one flagged for risk, sent last) and one decided."""
    flagged = sent_screening(
        client_a, safety_now="yes", phq9=[2, 3, 2, 2, 1, 2, 1, 1, 1], hypertension="unsure"
    )
    older = sent_screening(client_create(clinic=clinic_qc, email="older@example.com"))
    Screening.objects.filter(pk=older.pk).update(
        submitted_at=flagged.submitted_at.replace(year=2025)
    )
    sent_screening(client_create(clinic=clinic_qc, email="other@example.com"), heart_disease="yes")
    return flagged


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_clinician_decides_on_a_flagged_screening_from_the_queue_on_one_screen(
    live_server, browser, therapist, client_a, clinic_qc, queue, language
):
    therapist.preferred_language = language
    therapist.save(update_fields=["preferred_language"])
    done_client = client_create(clinic=clinic_qc, email="done@example.com")
    decide(sent_screening(done_client), therapist, "not_eligible", "Not for now.")
    held_intake_call(client_a.courses.get(), therapist)
    with translation.override(language):
        eligible = str(Decision.Kind.ELIGIBLE.label)
        not_eligible = str(Decision.Kind.NOT_ELIGIBLE.label)
        last_section = str(screener.steps(1)[-1].title)

    context = staff_context(browser, live_server, therapist, locale=f"{language}-CA", viewport=WIDE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(live_server.url + reverse("admin:eligibility_screening_changelist"))
        expect(page.locator("html")).to_have_attribute("lang", language)
        rows = page.locator("#result_list tbody tr")
        # Waiting for a decision by default (the decided one is not there),
        # the flagged one first although sent last.
        expect(rows).to_have_count(3)
        expect(rows.first).to_contain_text(str(client_a.user))
        expect(rows.first.locator(".badge-risk")).to_be_visible()
        # Risk is a warning, never the admin's green tick or red cross.
        assert page.locator("#result_list img[src*='icon-']").count() == 0
        shot(page, f"queue-1280-{language}")
        assert fits_the_width(page, "#result_list"), "a column of the queue is cut off"
        problems = serious_violations(page)

        rows.first.get_by_role("link", name=str(client_a.user)).click()
        form = page.get_by_test_id("decision-form")
        expect(form).to_be_visible()
        # The decision form is on the first screen, without scrolling.
        box = form.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= WIDE["height"], box
        assert box["x"] + box["width"] <= WIDE["width"], box
        assert page.evaluate("window.scrollY") == 0
        expect(page.get_by_test_id("crisis-alert")).to_be_visible()
        expect(page.get_by_test_id("risk")).to_contain_text("PHQ-9")
        summary = page.get_by_test_id("summary")
        expect(summary).not_to_contain_text("You told us")
        expect(summary).not_to_contain_text("crisis")
        shot(page, f"review-1280-{language}")
        problems += serious_violations(page)
        # Sticky: still in view while the clinician reads the answers below.
        page.get_by_role("heading", name=last_section).scroll_into_view_if_needed()
        assert page.evaluate("window.scrollY") > 0
        box = form.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= WIDE["height"], box

        form.locator("input[name='kind'][value='eligible']").check()
        form.locator("textarea[name='note']").fill("Safety plan in place; seen by phone.")
        form.locator("input[type='submit']").click()
        expect(page.locator(".messagelist")).to_be_visible()
        # Back in the queue: no longer waiting; among the decided, with its decision.
        expect(page.locator("#result_list tbody tr")).to_have_count(2)
        page.locator("#changelist-filter a[href*='waiting=decided']").click()
        decided = page.locator("#result_list tbody tr", has_text=str(client_a.user))
        expect(decided.locator(".badge-done")).to_have_text(eligible)
        expect(
            page.locator("#result_list tbody tr", has_text=str(done_client.user)).locator(
                ".badge-done"
            )
        ).to_have_text(not_eligible)
    finally:
        context.close()
    assert Decision.objects.get(screening=queue).kind == "eligible"
    assert not problems, problems


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_queue_and_the_review_read_on_a_phone(live_server, browser, therapist, queue, language):
    therapist.preferred_language = language
    therapist.save(update_fields=["preferred_language"])
    context = staff_context(
        browser, live_server, therapist, locale=f"{language}-CA", viewport=NARROW
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(live_server.url + reverse("admin:eligibility_screening_changelist"))
        expect(page.locator("#result_list tbody tr")).to_have_count(3)
        shot(page, f"queue-390-{language}")
        page.goto(live_server.url + reverse("admin:eligibility_screening_change", args=[queue.pk]))
        expect(page.get_by_test_id("decision-form")).to_be_visible()
        # Nothing runs off the side of the phone's screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
        shot(page, f"review-390-{language}")
    finally:
        context.close()


def _rooms_url(clinic) -> str:
    try:
        return reverse("admin:clinic_room_changelist")
    except NoReverseMatch:  # rooms are edited with their clinic
        return reverse("admin:clinic_clinic_change", args=[clinic.pk])


def test_the_staff_admin_pages_pass_the_axe_check(
    live_server, browser, therapist, privacy_officer, client_a, clinic_qc, queue
):
    call = held_intake_call(client_a.courses.get(), therapist)
    superuser = get_user_model().objects.create_superuser(
        email="root@example.com", password="a-long-test-passphrase"
    )
    pages = {
        therapist: [
            reverse("admin:index"),
            reverse("admin:eligibility_screening_changelist"),
            reverse("admin:eligibility_screening_change", args=[queue.pk]),
            reverse("admin:intake_intakecall_changelist"),
            reverse("admin:intake_intakecall_change", args=[call.pk]),
        ],
        privacy_officer: [reverse("admin:clinic_accesslogentry_changelist")],
        superuser: [_rooms_url(clinic_qc)],
    }
    problems = []
    for user, urls in pages.items():
        context = staff_context(browser, live_server, user, viewport=WIDE)
        page = context.new_page()
        page.set_default_timeout(10_000)
        try:
            for url in urls:
                response = page.goto(live_server.url + url)
                assert response.status == 200, url
                problems += serious_violations(page)
                if "accesslogentry" in url:
                    assert fits_the_width(page, "#result_list"), "the access log is cut off"
                    shot(page, "access-log-1280-en")
        finally:
            context.close()
    assert not problems, problems
