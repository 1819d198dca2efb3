"""The charts (the client's own, the clinicians' with response and
remission marked, each read logged) and the clinicians' list of follow-ups
due and scores that worsened, each with a query count fixed whatever the
data size."""

from datetime import timedelta

import pytest
from django.utils import timezone

from clinic.models import AccessLogEntry
from clinic.tests.factories import client_create
from integration.measures.selectors import worsened_scores
from integration.tests.measure_factories import answer, baseline, follow_up


@pytest.fixture
def scored(client_a):
    """Client A: a baseline of 16 / 12, then a response (8) and a remission (4)."""
    course = client_a.courses.get()
    baseline(course, phq9=16, gad7=12, at=timezone.now() - timedelta(days=80))
    first = follow_up(course, days=7, opens_at=timezone.now() - timedelta(days=40))
    answer(first, phq9=8, gad7=10, now=timezone.now() - timedelta(days=39))
    second = follow_up(course, days=30, opens_at=timezone.now() - timedelta(days=2))
    answer(second, phq9=4, gad7=11)
    return client_a


def test_the_client_sees_their_own_chart_without_clinical_marks(client, scored):
    client.force_login(scored.user)
    page = client.get("/portal/questionnaires/").content.decode()
    assert page.count("<svg") == 2 and "<polyline" in page
    assert "Moderately severe (15–19)" in page  # the bands, labelled
    assert 'data-marker="response"' not in page and "Remission" not in page
    assert "<caption>" in page  # the table beside it for screen readers


def test_a_clinician_sees_response_and_remission_marked_and_the_read_is_logged(
    staff_login, therapist, scored
):
    browser = staff_login(therapist)
    page = browser.get(f"/staff/measures/clients/{scored.uuid}/").content.decode()
    # PHQ-9: 8 is a response (half of 16), 4 a response and a remission.
    assert page.count('data-marker="response"') == 2
    assert page.count('data-marker="remission"') == 1
    entry = AccessLogEntry.objects.get(actor=therapist)
    assert entry.client == scored and entry.path == f"/staff/measures/clients/{scored.uuid}/"


def test_a_coordinator_may_not_read_scores_and_another_clinic_finds_nothing(
    staff_login, coordinator, other_clinic_therapist, scored
):
    assert (
        staff_login(coordinator).get(f"/staff/measures/clients/{scored.uuid}/").status_code == 403
    )
    browser = staff_login(other_clinic_therapist)
    assert browser.get(f"/staff/measures/clients/{scored.uuid}/").status_code == 404
    assert not AccessLogEntry.objects.exists()


def test_the_svg_numbers_stay_plain_in_french(client, scored):
    import re

    client.force_login(scored.user)
    page = client.get("/portal/questionnaires/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Dépistage (point de départ)" in page or "<svg" in page
    svg = page[page.index("<svg") : page.index("</svg>")]
    coordinates = re.findall(r'\b(?:cx|cy|x|y|width|height)="([^"]*)"', svg)
    assert coordinates and all(re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", c) for c in coordinates)


def test_worsened_scores_compare_with_the_answer_before_and_the_baseline(client_a, client_b):
    a = client_a.courses.get()
    baseline(a, phq9=10, gad7=6)
    answer(
        follow_up(a, days=7, opens_at=timezone.now() - timedelta(days=20)),
        phq9=12,
        gad7=7,
        now=timezone.now() - timedelta(days=19),
    )
    answer(follow_up(a, days=30), phq9=15, gad7=8)  # +3 on the last, +5 on the baseline
    b = client_b.courses.get()
    baseline(b, phq9=10, gad7=10)
    answer(follow_up(b, days=7), phq9=14, gad7=3)  # +4: not listed
    rows = list(worsened_scores(clinic_ids=[client_a.clinic_id]))
    assert [(r.client_id, r.questionnaire, r.score, r.rise) for r in rows] == [
        (client_a.pk, "phq9", 15, 5)
    ]


def _client_with_follow_ups(clinic, n):
    client = client_create(clinic=clinic, email=f"m{n}@example.com")
    course = client.courses.get()
    baseline(course, phq9=6, gad7=6)
    follow_up(course, days=7)  # due
    follow_up(course, days=30, opens_at=timezone.now() - timedelta(days=20))  # overdue
    answer(follow_up(course, days=91, opens_at=timezone.now() - timedelta(days=1)), phq9=14, gad7=6)
    return client


@pytest.mark.parametrize("size", [1, 10])
def test_the_list_pages_query_counts_are_fixed(
    staff_login, therapist, clinic_qc, size, django_assert_max_num_queries
):
    for n in range(size):
        _client_with_follow_ups(clinic_qc, n)
    browser = staff_login(therapist)
    browser.get("/staff/measures/")  # warm the session
    with django_assert_max_num_queries(5):
        page = browser.get("/staff/measures/").content.decode()
    assert page.count("overdue: not answered in time") == size
    assert page.count("due, open until") == size
    assert page.count("/plan/") == 2 * size  # each row links to its course's integration plan
    with django_assert_max_num_queries(5):
        page = browser.get("/staff/measures/?list=worsened").content.decode()
    assert page.count("+8") == size


@pytest.mark.parametrize("size", [1, 10])
def test_the_chart_pages_query_count_is_fixed(
    staff_login, therapist, client_a, size, django_assert_max_num_queries
):
    course = client_a.courses.get()
    baseline(course)
    for n in range(size):
        answer(follow_up(course, days=n + 1), phq9=n % 27, gad7=n % 21)
    browser = staff_login(therapist)
    browser.get("/staff/measures/")
    with django_assert_max_num_queries(6):
        page = browser.get(f"/staff/measures/clients/{client_a.uuid}/").content.decode()
    assert page.count("<tr>") >= 2 * (size + 1)


def test_the_list_logs_each_row_shown_and_coordinators_see_no_scores(
    staff_login, therapist, coordinator, clinic_qc
):
    _client_with_follow_ups(clinic_qc, 1)
    staff_login(therapist).get("/staff/measures/")
    assert AccessLogEntry.objects.filter(object_type="integration.measureinvitation").count() == 2
    staff_login(therapist).get("/staff/measures/?list=worsened")
    assert (
        AccessLogEntry.objects.filter(object_type="eligibility.questionnaireresponse").count() == 1
    )
    browser = staff_login(coordinator)
    page = browser.get("/staff/measures/").content.decode()
    assert "due, open until" in page and "tab-worsened" not in page
    assert browser.get("/staff/measures/?list=worsened").status_code == 403


def test_the_list_is_paginated(staff_login, therapist, clinic_qc):
    for n in range(13):
        _client_with_follow_ups(clinic_qc, n)
    browser = staff_login(therapist)
    first = browser.get("/staff/measures/").content.decode()
    assert "Page 1 of 2" in first
    second = browser.get("/staff/measures/?list=due&page=2").content.decode()
    assert second.count("<tr>") == 1 + 1  # the 26th row, and the header


@pytest.mark.parametrize("size", [1, 10])
def test_the_clients_own_chart_costs_the_same_queries_at_two_sizes(
    client, client_a, size, django_assert_max_num_queries
):
    course = client_a.courses.get()
    baseline(course)
    for n in range(size):
        answer(follow_up(course, days=n + 1), phq9=n % 27, gad7=n % 21)
    client.force_login(client_a.user)
    client.get("/portal/")  # warm the session
    with django_assert_max_num_queries(7):
        response = client.get("/portal/questionnaires/")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("<svg") == 2
    assert page.count("<circle") == 2 * (size + 1)
