"""The client answers in the portal: scored by the screener's definition,
once, while the invitation is open; impossible answers and another client's
ids change nothing; a risk answer takes the screener's crisis path."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from clinic.models import OutboxMessage
from clinic.outbox import outbox_sweep
from eligibility.models import QuestionnaireResponse
from integration.measures import services
from integration.tests.measure_factories import answers_scoring, follow_up


@pytest.fixture
def course(client_a):
    return client_a.courses.get()


@pytest.fixture
def invitation(course):
    return follow_up(course)


def form_data(phq9, gad7):
    data = {f"phq9-item_{i + 1}": str(v) for i, v in enumerate(phq9)}
    data.update({f"gad7-item_{i + 1}": str(v) for i, v in enumerate(gad7)})
    return data


@pytest.fixture
def web(client, client_a):
    client.force_login(client_a.user)
    return client


def url(invitation):
    return f"/portal/questionnaires/{invitation.uuid}/"


def test_an_answer_is_scored_by_the_screeners_definition_and_shown_on_the_chart(web, invitation):
    page = web.get(url(invitation)).content.decode()
    # The screener's own items, in the screener's words.
    assert "Little interest or pleasure in doing things" in page
    assert "Feeling nervous, anxious, or on edge" in page
    response = web.post(url(invitation), form_data(answers_scoring(12, 9), answers_scoring(9, 7)))
    assert response.status_code == 302 and response["Location"] == "/portal/questionnaires/"
    invitation.refresh_from_db()
    assert invitation.answered_at is not None
    assert (invitation.phq9.score, invitation.phq9.band) == (12, "moderate")
    assert (invitation.gad7.score, invitation.gad7.band) == (9, "mild")
    chart = web.get("/portal/questionnaires/").content.decode()
    assert 'data-testid="svg-phq9"' in chart and "Follow-up, 7 days after the series" in chart
    assert "<td>12</td>" in chart and "Moderate" in chart


def test_a_second_answer_is_refused_and_the_first_is_kept(web, invitation):
    web.post(url(invitation), form_data(answers_scoring(12, 9), answers_scoring(9, 7)))
    response = web.post(
        url(invitation), form_data(answers_scoring(2, 9), answers_scoring(1, 7)), follow=True
    )
    assert "already been answered" in response.content.decode()
    assert QuestionnaireResponse.objects.count() == 2
    invitation.refresh_from_db()
    assert invitation.phq9.score == 12


def test_the_service_answers_once_even_from_a_stale_copy(invitation, client_a):
    stale = type(invitation).objects.get(pk=invitation.pk)
    services.invitation_answer(
        invitation=invitation,
        client=client_a,
        phq9=answers_scoring(5, 9),
        gad7=answers_scoring(5, 7),
    )
    with pytest.raises(services.MeasureError, match="already been answered"):
        services.invitation_answer(
            invitation=stale,
            client=client_a,
            phq9=answers_scoring(20, 9),
            gad7=answers_scoring(20, 7),
        )
    assert QuestionnaireResponse.objects.count() == 2


def test_an_expired_invitation_is_refused_with_nothing_saved(web, course):
    expired = follow_up(course, opens_at=timezone.now() - timedelta(days=15))
    page = web.get(url(expired)).content.decode()
    assert "the time to answer it has passed" in page and "measures-form" not in page
    response = web.post(
        url(expired), form_data(answers_scoring(3, 9), answers_scoring(3, 7)), follow=True
    )
    assert "the time to answer it has passed" in response.content.decode()
    assert not QuestionnaireResponse.objects.exists()


@pytest.mark.parametrize(
    "change",
    [
        {"phq9-item_1": "4"},
        {"gad7-item_7": "-1"},
        {"phq9-item_3": "often"},
        {"gad7-item_2": ""},
    ],
)
def test_impossible_answers_are_refused_with_nothing_saved(web, invitation, change):
    data = {**form_data(answers_scoring(3, 9), answers_scoring(3, 7)), **change}
    response = web.post(url(invitation), data)
    assert response.status_code == 200
    assert "Please answer every question" in response.content.decode()
    assert not QuestionnaireResponse.objects.exists()
    invitation.refresh_from_db()
    assert invitation.answered_at is None


def test_a_missing_answer_is_refused(web, invitation):
    data = form_data(answers_scoring(3, 9), answers_scoring(3, 7))
    del data["phq9-item_9"]
    assert web.post(url(invitation), data).status_code == 200
    assert not QuestionnaireResponse.objects.exists()


def test_the_service_refuses_impossible_answers(invitation, client_a):
    for phq9 in ([0] * 8, [4] + [0] * 8, ["x"] * 9, None):
        with pytest.raises(services.MeasureError):
            services.invitation_answer(
                invitation=invitation, client=client_a, phq9=phq9, gad7=[0] * 7
            )
    assert not QuestionnaireResponse.objects.exists()


def test_another_clients_invitation_is_not_found_and_unchanged(client, client_b, invitation):
    client.force_login(client_b.user)
    assert client.get(url(invitation)).status_code == 404
    response = client.post(url(invitation), form_data(answers_scoring(3, 9), [0] * 7))
    assert response.status_code == 404
    invitation.refresh_from_db()
    assert invitation.answered_at is None and not QuestionnaireResponse.objects.exists()


def test_a_risk_answer_shows_the_resources_and_alerts_each_clinician_at_once(
    web, invitation, therapist, medical_practitioner, coordinator
):
    response = web.post(
        url(invitation), form_data(answers_scoring(10, 9, risk=1), answers_scoring(4, 7))
    )
    assert response["Location"] == "/portal/questionnaires/support/"
    page = web.get(response["Location"]).content.decode()
    assert "9-8-8" in page and "Continue to my questionnaires" in page
    assert OutboxMessage.objects.filter(kind=services.CRISIS_ALERT).count() == 1
    mail.outbox.clear()
    outbox_sweep()
    alerts = [m for m in mail.outbox if "URGENT" in m.subject]
    # The clinicians, not the coordinator; no answers in the e-mail, only a link.
    assert sorted(m.to[0] for m in alerts) == sorted([therapist.email, medical_practitioner.email])
    assert f"/staff/measures/clients/{invitation.client.uuid}/" in alerts[0].body
    assert "Little interest" not in alerts[0].body


def test_a_risk_answer_on_a_used_invitation_still_alerts_the_team_once(web, invitation):
    web.post(url(invitation), form_data(answers_scoring(3, 9), answers_scoring(3, 7)))
    risky = form_data(answers_scoring(10, 9, risk=2), answers_scoring(4, 7))
    for _ in range(2):  # a double submit
        response = web.post(url(invitation), risky)
        assert response["Location"] == "/portal/questionnaires/support/"
    assert OutboxMessage.objects.filter(kind=services.CRISIS_ALERT).count() == 1
    assert QuestionnaireResponse.objects.count() == 2  # the first answer only


def test_a_staff_member_cannot_open_the_portal_pages(staff_login, therapist, invitation):
    browser = staff_login(therapist)
    assert browser.get(url(invitation)).status_code == 302
