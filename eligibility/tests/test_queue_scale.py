"""The review queue's cost does not grow with the clinic: its count stops at
a cap (and the page says "or more"), and its rows and count come from the
partial index on sent screenings in the queue's own order."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.tests.factories import client_create
from eligibility.admin import QueuePaginator, ScreeningAdmin, WaitingFilter
from eligibility.models import Screening
from eligibility.tests.factories import decide, sent_screening

CHANGELIST = reverse("admin:eligibility_screening_changelist")


def words(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def five_waiting(clinic_qc, therapist):
    screenings = [
        sent_screening(client_create(clinic=clinic_qc, email=f"cap{n}@example.com"))
        for n in range(6)
    ]
    decide(screenings[-1], therapist, "eligible")  # decided: not in the queue
    return screenings[:5]


def test_the_queue_count_stops_at_the_cap_and_says_or_more(
    staff_login, therapist, five_waiting, monkeypatch
):
    monkeypatch.setattr(QueuePaginator, "CAP", 3)
    web = staff_login(therapist)
    with CaptureQueriesContext(connection) as queries:
        response = web.get(CHANGELIST)
    assert response.context["cl"].result_count == 3
    assert "3 or more screenings" in words(response.content.decode())
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"]]
    assert counts and all("LIMIT 3" in sql for sql in counts)


def test_under_the_cap_the_queue_count_is_exact(staff_login, therapist, five_waiting):
    web = staff_login(therapist)
    response = web.get(CHANGELIST)
    assert response.context["cl"].result_count == 5
    page = words(response.content.decode())
    assert "5 screenings" in page and "or more" not in page


def test_the_queue_reads_the_partial_index_in_its_order(rf, clinic_qc, five_waiting):
    """With sequential scans priced out (the test tables are tiny), the queue
    as it opens is read from screening_sent_queue_idx with no sort of the
    screenings: the index answers both the filter and the order."""
    admin = ScreeningAdmin(Screening, None)
    request = rf.get(CHANGELIST)
    queryset = WaitingFilter(request, {}, Screening, admin).queryset(
        request, Screening.objects.filter(clinic=clinic_qc).with_decision_state()
    )
    queryset = queryset.order_by("-crisis_flag", "submitted_at", "-pk")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        page_plan = queryset[:25].explain()
        count_plan = queryset.order_by().values("pk")[: QueuePaginator.CAP].explain()
    for plan in (page_plan, count_plan):
        assert "screening_sent_queue_idx" in plan, plan
        assert not re.search(r"Sort Key: eligibility_screening\.", plan), plan
