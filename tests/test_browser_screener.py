"""The screener in a real browser: a client fills in the first steps, saves
and finishes later, comes back in a new window and resumes where they left
off, then sends; a therapist opens the screening in the admin and records
an eligible decision, after which the client's portal shows the prepare stage."""

import re

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from clinic.models import Course, Stage
from clinic.signals import MFA_ACTIVATED_SESSION_KEY
from eligibility import screener
from eligibility.models import Decision, Screening
from eligibility.screener import EXAMPLE_ANSWERS
from intake.tests.factories import held_intake_call

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-test-passphrase"
STEPS = screener.steps(screener.CURRENT)


def sign_in(page, base, email):
    page.goto(base + "/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    # Signed in once the answer arrives: a page opened before then would cancel the POST.
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


def fill_step(page, step, answers=EXAMPLE_ANSWERS):
    """Answer one step as a person would: tick, type, pick the date."""
    expect(page.get_by_test_id("step-title")).to_have_text(str(step.title))
    form = step.form
    if hasattr(form, "questionnaire"):
        for i, value in enumerate(answers[form.questionnaire.code]):
            page.locator(f'input[name="item_{i + 1}"][value="{value}"]').check()
        return
    for name, field in form.base_fields.items():
        value = answers.get(name)
        if name == "date_of_birth":
            page.get_by_label("Date of birth").fill(value)
        elif isinstance(value, list):
            for item in value:
                page.locator(f'input[name="{name}"][value="{item}"]').check()
        elif getattr(field.widget, "input_type", "") == "radio":
            page.locator(f'input[name="{name}"][value="{value}"]').check()
        elif value:
            page.locator(f'[name="{name}"]').fill(value)


def staff_context(browser, live_server, user, locale="en-CA", **options):
    """A browser window signed in as a staff member who has set up and used
    two-factor authentication (the sign-in itself is tested in test_browser_journey)."""
    TOTP.activate(user, generate_totp_secret())
    web = Client()
    web.force_login(user)
    session = web.session
    session[MFA_ACTIVATED_SESSION_KEY] = True
    session.save()
    context = browser.new_context(locale=locale, **options)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": session.session_key,
                "url": live_server.url,
            }
        ]
    )
    return context


def client_fills_in_the_screener(browser, live_server, page, client_a):
    base = live_server.url
    sign_in(page, base, client_a.user.email)
    expect(page).to_have_url(re.compile(r"/portal/$"))

    page.goto(base + "/portal/screening/")
    expect(page).to_have_url(re.compile(r"/portal/screening/about/$"))
    expect(page.get_by_role("progressbar")).to_be_visible()
    expect(page.get_by_text("Step 1 of 10")).to_be_visible()
    fill_step(page, STEPS[0])
    page.get_by_test_id("step-next").click()
    expect(page.get_by_text("Step 2 of 10")).to_be_visible()
    fill_step(page, STEPS[1])
    page.get_by_role("button", name="Save and finish later").click()
    expect(page).to_have_url(re.compile(r"/portal/$"))
    expect(
        page.get_by_text("Your answers are saved. You can come back at any time.")
    ).to_be_visible()
    page.goto("about:blank")  # the tab is closed

    # Later, in a new window: the screener resumes at the first unanswered step.
    later = browser.new_context(locale="en-CA")
    page = later.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, base, client_a.user.email)
    page.goto(base + "/portal/screening/")
    expect(page).to_have_url(re.compile(r"/portal/screening/mental-health/$"))
    expect(page.get_by_text("Step 3 of 10")).to_be_visible()
    page.get_by_role("link", name="Back").click()
    expect(page.locator('input[name="pregnant"][value="not_applicable"]')).to_be_checked()
    page.get_by_role("link", name="Back").click()
    expect(page.get_by_label("Date of birth")).to_have_value("1985-04-23")
    page.goto(base + "/portal/screening/mental-health/")

    for step in STEPS[2:]:
        fill_step(page, step)
        page.get_by_test_id("step-next").click()

    expect(page).to_have_url(re.compile(r"/portal/screening/review/$"))
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "90")
    page.get_by_test_id("screening-submit").click()
    expect(page.get_by_test_id("submitted-title")).to_be_visible()
    later.close()
    screening = Screening.objects.get(course__client=client_a)
    assert screening.status == Screening.Status.SUBMITTED
    assert screening.answers == EXAMPLE_ANSWERS
    return screening


def test_a_client_fills_in_the_screener_over_two_visits_and_sends_it(
    live_server, page, browser, client_a
):
    screening = client_fills_in_the_screener(browser, live_server, page, client_a)
    assert screening.outcome == "likely_eligible"


def test_a_clinician_records_eligible_in_the_admin_and_the_client_moves_to_prepare(
    live_server, page, browser, client_a, therapist
):
    screening = client_fills_in_the_screener(browser, live_server, page, client_a)
    held_intake_call(client_a.courses.get(), therapist)

    staff = staff_context(browser, live_server, therapist)
    admin = staff.new_page()
    admin.set_default_timeout(10_000)
    admin.goto(live_server.url + "/admin/eligibility/screening/")
    admin.get_by_role("link", name=str(client_a.user)).click()
    expect(admin.get_by_role("heading", name="About you")).to_be_visible()
    expect(admin.get_by_text("10 (Moderate)")).to_be_visible()
    admin.get_by_label("eligible", exact=True).check()
    admin.get_by_label("Note").fill("A good fit for the program.")
    admin.get_by_role("button", name="Record the decision").click()
    expect(
        admin.get_by_text("The decision is recorded and the client moves on to the prepare stage.")
    ).to_be_visible()
    staff.close()
    assert Decision.objects.get(screening=screening).kind == "eligible"
    assert Course.objects.get(client=client_a).stage == Stage.PREPARE

    back = browser.new_context(locale="en-CA")
    client_page = back.new_page()
    sign_in(client_page, live_server.url, client_a.user.email)
    expect(client_page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "40")
    expect(client_page.get_by_text("Prepare for your sessions")).to_be_visible()
    back.close()
