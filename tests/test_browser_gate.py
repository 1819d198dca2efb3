"""The journey moves when its conditions are met, in whichever order they
are: here the clinician's eligible decision comes first, the intake call is
held afterwards, and the course is in prepare without anyone moving it."""

import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinic.calendar import appointment_book
from clinic.models import AppointmentKind, Course, JourneyEvent, Stage
from eligibility import screener
from eligibility import services as eligibility_services
from intake.models import IntakeCall
from tests.test_browser_screener import sign_in, staff_context

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def call_that_just_took_place(course, clinician) -> IntakeCall:
    """Booked for an hour ago, its outcome not recorded yet."""
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=1)
    appointment = appointment_book(
        clinic=course.clinic,
        kind=AppointmentKind.INTAKE_CALL,
        start=start,
        end=start + timedelta(minutes=30),
        staff=[clinician],
        client=course.client,
    )
    return IntakeCall.objects.create(
        appointment=appointment,
        course=course,
        concern="depression",
        language="en",
        phone="+15145550123",
        consent_to_contact=True,
        submission=uuid.uuid4(),
    )


def sent_screening(client):
    screening = eligibility_services.screening_start(client=client)
    for step in screener.steps(screening.screener_version):
        screening, _crisis = eligibility_services.screening_save_step(
            screening=screening, step=step, answers=dict(screener.EXAMPLE_ANSWERS)
        )
    return eligibility_services.screening_submit(screening=screening)


def test_eligible_first_then_the_call_held_moves_the_course_to_prepare_by_itself(
    live_server, browser, client_a, therapist
):
    course = client_a.courses.get()
    call = call_that_just_took_place(course, therapist)
    screening = sent_screening(client_a)

    staff = staff_context(browser, live_server, therapist)
    page = staff.new_page()
    page.set_default_timeout(10_000)

    # The clinician decides first: the course waits for the call.
    page.goto(f"{live_server.url}/admin/eligibility/screening/{screening.pk}/change/")
    page.get_by_label("eligible", exact=True).check()
    page.get_by_label("Note").fill("A good fit for the program.")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text("The course moves on by itself once this is done")).to_be_visible()
    assert Course.objects.get(pk=course.pk).stage == Stage.CONNECT

    # Then the call is recorded as held, and nothing else is done.
    page.goto(f"{live_server.url}/staff/intake/calls/{call.uuid}/")
    page.get_by_label("Held").check()
    page.get_by_label("Notes").fill("Good fit; knows what to expect.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The outcome of the call is recorded.")).to_be_visible()
    staff.close()

    course.refresh_from_db()
    assert course.stage == Stage.PREPARE
    event = JourneyEvent.objects.get(course=course, to_stage=Stage.PREPARE)
    assert (event.from_stage, event.actor, event.reason) == (
        Stage.CONNECT,
        therapist,
        "Intake call held",
    )

    # The client's portal shows the new stage.
    window = browser.new_context(locale="en-CA")
    client_page = window.new_page()
    client_page.set_default_timeout(10_000)
    sign_in(client_page, live_server.url, client_a.user.email)
    expect(client_page).to_have_url(re.compile(r"/portal/$"))
    expect(client_page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "40")
    window.close()
