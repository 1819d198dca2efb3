"""A client and a clinician, each in a real browser: the client signs in and
sees their journey; the clinician signs in with two-factor authentication,
sets it up on first sign-in, and moves the client's course forward, after
which the client's portal shows the new stage."""

import re

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.utils import timezone
from playwright.sync_api import expect

from clinic.models import Course, Stage
from eligibility.tests.factories import eligible_decision
from intake.tests.factories import held_intake_call

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-test-passphrase"


def sign_in(page, base, email):
    page.goto(base + "/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    # Signed in once the answer arrives: a page opened before then would cancel the POST.
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


def test_a_client_signs_in_and_sees_their_stage_and_next_step(live_server, page, client_a):
    sign_in(page, live_server.url, client_a.user.email)
    expect(page).to_have_url(re.compile(r"/portal/$"))
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "20")
    expect(page.get_by_text("Book your free intake call")).to_be_visible()


def test_a_clinician_sets_up_two_factor_and_moves_a_course_forward(
    live_server, page, browser, client_a, therapist
):
    held_intake_call(client_a.courses.get(), therapist)
    eligible_decision(client_a.courses.get(), therapist)
    sign_in(page, live_server.url, therapist.email)

    # First staff sign-in: the gate sends them to set up an authenticator.
    page.goto(live_server.url + "/staff/")
    if "/accounts/reauthenticate/" in page.url:
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name=re.compile("Confirm", re.I)).click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/"))
    secret = page.get_by_label(re.compile("Authenticator secret", re.I)).input_value()
    code = format_hotp_value(hotp_value(secret, int(timezone.now().timestamp()) // 30))
    page.get_by_label(re.compile("Authenticator code", re.I)).fill(code)
    page.get_by_role("button", name=re.compile("Activate", re.I)).click()
    # Wait for the activation to be answered: going on at once could cancel the POST.
    expect(page).not_to_have_url(re.compile(r"/accounts/2fa/totp/activate/"))

    page.goto(live_server.url + "/staff/")
    expect(page.get_by_role("heading", name="Courses")).to_be_visible()
    page.get_by_role("link", name=str(client_a.user)).click()
    page.get_by_label("Move to").select_option(Stage.PREPARE.value)
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("The course moved to Prepare.")).to_be_visible()
    assert Course.objects.get(client=client_a).stage == Stage.PREPARE

    client_context = browser.new_context(locale="en-CA")
    client_page = client_context.new_page()
    sign_in(client_page, live_server.url, client_a.user.email)
    expect(client_page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "40")
    expect(client_page.get_by_text("Prepare for your sessions")).to_be_visible()
    client_context.close()
