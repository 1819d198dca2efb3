"""A client and a clinician, each in a real browser: the client signs in and
sees their journey; the clinician, whose password alone opens nothing, sets
up two-factor authentication through the invitation the privacy officer
sends, and moves the client's course forward, after which the client's
portal shows the new stage."""

import re

import pytest
from playwright.sync_api import expect

from clinic.invitations import invitation_link, staff_invitation_issue
from clinic.models import Course, Stage
from eligibility.tests.factories import eligible_decision
from intake.tests.factories import held_intake_call
from tests.test_browser_staff_invitation import TEXT, enrol_through_invitation

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
    live_server, page, browser, client_a, therapist, privacy_officer
):
    held_intake_call(client_a.courses.get(), therapist)
    eligible_decision(client_a.courses.get(), therapist)

    # The password alone opens nothing: the gate says to ask for an invitation.
    sign_in(page, live_server.url, therapist.email)
    page.goto(live_server.url + "/staff/")
    expect(page.get_by_role("heading", name="Your account needs an invitation")).to_be_visible()
    page.goto(live_server.url + "/accounts/2fa/totp/activate/")
    expect(page).to_have_url(re.compile(r"/accounts/invitation/needed/$"))
    page.get_by_role("button", name="Sign out").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/invitation/needed/$"))

    # The privacy officer sends one; through it, the clinician sets up two-factor.
    _invitation, token = staff_invitation_issue(user=therapist, actor=privacy_officer)
    enrol_through_invitation(page, live_server.url, invitation_link(token), TEXT["en"])
    page.get_by_role("link", name=TEXT["en"]["saved"]).click()

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
