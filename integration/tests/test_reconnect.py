"""The therapist closes the integration plan (the course moves to
reconnect, the summary kept); in reconnect the client asks for further
treatment (a new course, the team told) and says yes or no to being
contacted about peer support and research."""

from datetime import timedelta

import pytest
from django.core import mail

from clinic import journey
from clinic.models import AccessLogEntry, Course, OutboxMessage, Stage
from clinic.outbox import outbox_sweep
from eligibility.tests.factories import submitted_screening
from integration.reconnect import services
from integration.reconnect.models import (
    ContactPreferences,
    FurtherTreatmentRequest,
    IntegrationPlan,
)
from sessions.tests.factories import in_stage


@pytest.fixture
def integrating(client_a):
    return in_stage(client_a, Stage.INTEGRATE)


def plan_url(course):
    return f"/staff/integration/courses/{course.uuid}/plan/"


def test_closing_the_plan_keeps_the_summary_and_moves_the_course_to_reconnect(
    staff_login, therapist, integrating
):
    browser = staff_login(therapist)
    assert browser.get(plan_url(integrating)).status_code == 200
    response = browser.post(plan_url(integrating), {"summary": "Sleeping better; joins a group."})
    assert response.status_code == 302
    plan = IntegrationPlan.objects.get(course=integrating)
    assert plan.summary == "Sleeping better; joins a group." and plan.closed_by == therapist
    assert Course.objects.get(pk=integrating.pk).stage == Stage.RECONNECT
    assert integrating.events.filter(to_stage=Stage.RECONNECT, actor=therapist).exists()
    assert AccessLogEntry.objects.filter(actor=therapist, client=integrating.client).exists()
    # A second post (a double submit) changes nothing.
    browser.post(plan_url(integrating), {"summary": "Other"})
    assert IntegrationPlan.objects.get(course=integrating).summary.startswith("Sleeping")


def test_the_course_cannot_reach_reconnect_without_a_closed_plan(therapist, integrating):
    with pytest.raises(journey.JourneyError, match="integration plan"):
        journey.course_transition(course=integrating, to_stage=Stage.RECONNECT, actor=therapist)


@pytest.mark.parametrize("summary", ["", "   ", "x" * 2001])
def test_an_empty_or_overlong_summary_is_refused(staff_login, therapist, integrating, summary):
    response = staff_login(therapist).post(plan_url(integrating), {"summary": summary})
    assert response.status_code == 200
    assert not IntegrationPlan.objects.exists()
    assert Course.objects.get(pk=integrating.pk).stage == Stage.INTEGRATE


def test_only_the_clinics_clinicians_close_a_plan_of_a_course_in_integrate(
    staff_login, coordinator, other_clinic_therapist, therapist, client_b, integrating
):
    assert staff_login(coordinator).post(plan_url(integrating), {"summary": "x"}).status_code == 403
    assert (
        staff_login(other_clinic_therapist)
        .post(plan_url(integrating), {"summary": "x"})
        .status_code
        == 404
    )
    preparing = in_stage(client_b, Stage.PREPARE)
    with pytest.raises(services.ReconnectError, match="not in the integrate stage"):
        services.integration_plan_close(course=preparing, actor=therapist, summary="x")
    assert not IntegrationPlan.objects.exists()


@pytest.fixture
def reconnecting(client_a, therapist):
    course = in_stage(client_a, Stage.INTEGRATE)
    services.integration_plan_close(course=course, actor=therapist, summary="Done.")
    return Course.objects.get(pk=course.pk)


def test_a_further_treatment_request_opens_a_new_course_and_tells_the_team_once(
    client, client_a, reconnecting, therapist, coordinator
):
    client.force_login(client_a.user)
    for _ in range(2):  # a double submit
        assert client.post("/portal/reconnect/", {"action": "request"}).status_code == 302
    request = FurtherTreatmentRequest.objects.get()
    assert request.from_course == reconnecting and request.new_course.stage == Stage.CONNECT
    assert Course.objects.filter(client=client_a).count() == 2
    assert OutboxMessage.objects.filter(kind=services.FURTHER_TREATMENT_NOTICE).count() == 1
    mail.outbox.clear()
    outbox_sweep()
    told = sorted(m.to[0] for m in mail.outbox if "further treatment" in m.subject)
    assert therapist.email in told and coordinator.email in told
    page = client.get("/portal/reconnect/").content.decode()
    # No screening on file (or an old one): the client is asked for a new one.
    assert 'data-testid="rescreen-link"' in page and not request.screening_current


def test_a_current_screening_is_noted_and_no_rescreening_is_asked(client, client_a, reconnecting):
    submitted_screening(reconnecting, days_ago=10)
    request, new = services.further_treatment_request(client=client_a)
    assert new and request.screening_current
    client.force_login(client_a.user)
    assert 'data-testid="rescreen-link"' not in client.get("/portal/reconnect/").content.decode()


def test_an_old_screening_asks_for_a_new_one(client_a, reconnecting):
    submitted_screening(reconnecting, days_ago=400)
    request, _new = services.further_treatment_request(client=client_a)
    assert not request.screening_current


def test_further_treatment_is_refused_before_reconnect(client, client_a, integrating):
    client.force_login(client_a.user)
    response = client.post("/portal/reconnect/", {"action": "request"}, follow=True)
    assert "once your course is in the reconnect stage" in response.content.decode()
    assert Course.objects.filter(client=client_a).count() == 1
    assert not FurtherTreatmentRequest.objects.exists()


def test_contact_opt_ins_are_off_until_the_client_says_yes(client, client_a, reconnecting):
    client.force_login(client_a.user)
    page = client.get("/portal/reconnect/").content.decode()
    assert "checked" not in page
    client.post("/portal/reconnect/", {"action": "contact", "peer_support": "on"})
    client_a.refresh_from_db()
    assert ContactPreferences.objects.get(client=client_a).peer_support
    assert not client_a.share_for_research
    client.post("/portal/reconnect/", {"action": "contact", "research": "on"})
    client_a.refresh_from_db()
    assert client_a.share_for_research
    assert not ContactPreferences.objects.get(client=client_a).peer_support


def test_another_clients_post_changes_only_their_own(client, client_b, reconnecting):
    client.force_login(client_b.user)
    client.post("/portal/reconnect/", {"action": "request"})
    assert not FurtherTreatmentRequest.objects.exists()
    assert Course.objects.filter(client=reconnecting.client).count() == 1


def test_the_screening_cutoff_is_the_clinics(client_a, reconnecting):
    clinic = reconnecting.clinic
    clinic.screening_valid_days = 30
    clinic.save()
    submitted_screening(reconnecting, days_ago=31)
    request, _new = services.further_treatment_request(client=client_a)
    assert not request.screening_current
    assert request.requested_at - timedelta(seconds=5) < request.new_course.opened_at
