"""The clinician's chart page as the benchmark measures it: its query count
fixed whatever the number of answers, within a budget."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from integration.tests.measure_factories import answer, baseline, follow_up

# Every query of the chart page for a signed-in clinician: the session, the
# user, their two-factor state (3); their clinics and the client (2); their
# role (1); the answers and the invitations they came from (2); the access
# log's entry: one insert, with no lock and no read of the chain (1).
CHART_QUERY_BUDGET = 9


def chart_queries(web, client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = web.get(f"/staff/measures/clients/{client.uuid}/")
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_the_chart_page_keeps_its_query_budget_at_two_sizes(staff_login, therapist, client_a):
    course = client_a.courses.get()
    baseline(course)
    web = staff_login(therapist)
    web.get("/staff/measures/")  # the session's first request records it (usersessions)
    counts = []
    for days in ([7], list(range(8, 20))):
        for day in days:
            answer(follow_up(course, days=day), phq9=day % 20, gad7=day % 15)
        count, body = chart_queries(web, client_a)
        counts.append(count)
    assert body.count("Follow-up,") == 2 * 13  # PHQ-9 and GAD-7 tables
    assert counts[0] == counts[1], counts
    assert counts[1] <= CHART_QUERY_BUDGET, counts
