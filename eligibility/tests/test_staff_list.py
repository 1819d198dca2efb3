from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.tests.factories import client_create
from eligibility import services
from eligibility.tests.factories import (
    resent_after_more_information,
    sent_screening,
    submitted_screening,
)


def test_a_coordinator_sees_that_screenings_exist_but_not_their_answers(
    staff_login, client_a, coordinator
):
    submitted_screening(
        client_a.courses.get(), answers={"psychosis": "yes", "primary_concern": "ptsd"}
    )
    page = staff_login(coordinator).get(reverse("eligibility:staff_list")).content.decode()
    assert str(client_a.user) in page and "submitted" in page
    for secret in ("psychosis", "ptsd", "likely eligible", "PHQ"):
        assert secret not in page
    assert "/admin/eligibility/screening/" not in page


def test_clinicians_get_a_link_to_the_review(staff_login, client_a, therapist):
    screening = submitted_screening(client_a.courses.get())
    page = staff_login(therapist).get(reverse("eligibility:staff_list")).content.decode()
    assert reverse("admin:eligibility_screening_change", args=[screening.pk]) in page


def test_the_privacy_officer_and_clients_are_kept_out(
    staff_login, client, client_a, privacy_officer
):
    assert staff_login(privacy_officer).get(reverse("eligibility:staff_list")).status_code == 403
    client.force_login(client_a.user)
    assert client.get(reverse("eligibility:staff_list")).status_code == 403


def test_the_list_is_paginated_and_its_query_count_is_fixed(staff_login, clinic_qc, coordinator):
    web = staff_login(coordinator)
    web.get(reverse("eligibility:staff_list"))
    counts = []
    for size in (10, 40):
        for _ in range(size - (10 if size == 40 else 0)):
            submitted_screening(client_create(clinic=clinic_qc).courses.get())
        with CaptureQueriesContext(connection) as queries:
            page = web.get(reverse("eligibility:staff_list"))
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert "Page 1 of 2" in page.content.decode()


def test_a_decision_on_the_answers_sent_before_is_not_shown_as_decided(
    staff_login, client_a, coordinator, therapist
):
    screening = sent_screening(client_a)
    # "More information" on the first answers; the client sends them again.
    resent_after_more_information(screening, therapist, heart_disease="no")
    web = staff_login(coordinator)
    page = web.get(reverse("eligibility:staff_list")).content.decode()
    assert "<td>not yet</td>" in page and "<td>yes</td>" not in page

    services.decision_record(screening=screening, clinician=therapist, kind="eligible", note="x")
    page = web.get(reverse("eligibility:staff_list")).content.decode()
    assert "<td>yes</td>" in page and "<td>not yet</td>" not in page
