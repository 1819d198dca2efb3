"""The staff group list as the benchmark measures it (seed_scale's groups):
its query count fixed whatever the number of groups, within a budget; and
the demo and scale seeds carry integration groups."""

import io

from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinic.models import Room, StaffRole, Stage
from clinic.tests.factories import client_create, staff_create
from demo.groups import GROUPS_PER_CLINIC, fill_groups
from integration.groups.models import Enrolment, IntegrationGroup
from integration.tests.group_factories import in_stage

# The session, the user, their two-factor state (3); their clinics (1); the
# page's count and rows (2); the rows' facilitators (1); the access log's
# entries: one insert, with no lock and no read of the chain (1).
GROUP_LIST_QUERY_BUDGET = 8


def test_the_staff_group_list_keeps_its_query_budget_at_two_sizes(
    staff_login, clinic_qc, coordinator
):
    therapists = [staff_create(role=StaffRole.THERAPIST, clinics=[clinic_qc]) for _ in range(3)]
    clients = [in_stage(client_create(clinic=clinic_qc), Stage.INTEGRATE) for _ in range(8)]
    web = staff_login(coordinator)
    web.get("/staff/groups/")  # the session's first request records it (usersessions)
    counts = []
    for size in (1, 2):
        fill_groups(
            clinic=clinic_qc,
            rooms=[
                Room.objects.create(clinic=clinic_qc, name=f"Bureau {size}.{i}") for i in (1, 2)
            ],
            therapists=therapists,
            coordinator=coordinator,
            clients=[c.client for c in clients],
            today=timezone.localdate(),
            now=timezone.now(),
            batch=1000,
        )
        with CaptureQueriesContext(connection) as queries:
            response = web.get("/staff/groups/")
        assert response.status_code == 200
        counts.append(len(queries))
    assert response.content.decode().count("Evening circle") == 2 * GROUPS_PER_CLINIC
    assert counts[0] == counts[1], counts
    assert counts[1] <= GROUP_LIST_QUERY_BUDGET, counts


def test_seed_scale_gives_each_clinic_its_groups(db):
    call_command("seed_scale", clients=60, appointments_per_client=1, stdout=io.StringIO())
    per_clinic = set(
        IntegrationGroup.objects.values("clinic_id")
        .order_by()
        .annotate(n=Count("pk"))
        .values_list("n", flat=True)
    )
    assert per_clinic == {GROUPS_PER_CLINIC}
    assert Enrolment.objects.filter(status=Enrolment.Status.WAITLISTED).exists()
