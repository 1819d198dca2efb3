"""The room board as the benchmark measures it: a clinic's day of six rooms
and thirty sessions (seed_scale's fill), its query count fixed whatever the
number of rooms and sessions, within a budget."""

import io
from datetime import date, datetime, timedelta

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinic.models import Appointment, Clinic, Room, StaffProfile, StaffRole, Stage
from clinic.tests.factories import client_create, staff_create
from demo.management.commands.seed_scale import fill_room_board
from sessions.tests.factories import in_stage

# Every query of the day view for a signed-in coordinator: the session, the
# user, their two-factor state (3); their clinics, twice (2); the rooms (1);
# the rooms' bookings with their clients, and the bookings' staff (2); the
# access log's entries for the clients shown: one insert, with no lock and no
# read of the chain (1).
BOARD_QUERY_BUDGET = 9
DAY = date(2026, 6, 4)


def board_queries(web, clinic) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = web.get("/staff/board/", {"clinic": clinic.slug, "day": DAY.isoformat()})
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_the_room_board_keeps_its_query_budget_at_two_sizes(staff_login, clinic_qc, coordinator):
    people = {
        role: [staff_create(role=role, clinics=[clinic_qc]) for _ in range(4)]
        for role in (StaffRole.THERAPIST, StaffRole.MEDICAL_PRACTITIONER)
    }
    dosing = [in_stage(client_create(clinic=clinic_qc), Stage.DOSING) for _ in range(6)]
    preparing = [in_stage(client_create(clinic=clinic_qc), Stage.PREPARE) for _ in range(6)]
    web = staff_login(coordinator)
    web.get("/staff/board/")  # the session's first request records it (usersessions)
    counts = []
    for rooms in (
        [Room.objects.create(clinic=clinic_qc, name="A", is_dosing_room=True)],
        [
            Room.objects.create(clinic=clinic_qc, name=f"B{i}", is_dosing_room=i < 3)
            for i in range(5)
        ],
    ):
        fill_room_board(
            clinic=clinic_qc,
            days=[DAY],
            rooms=rooms,
            therapists=people[StaffRole.THERAPIST],
            practitioners=people[StaffRole.MEDICAL_PRACTITIONER],
            booker=coordinator,
            dosing=dosing,
            preparing=preparing,
            now=timezone.now(),
        )
        count, body = board_queries(web, clinic_qc)
        counts.append(count)
    # Six rooms, four of them for dosing: thirty sessions on the day.
    assert Appointment.objects.filter(clinic=clinic_qc).count() == 30
    assert body.count('class="board-block ') == 30
    assert counts[0] == counts[1], counts
    assert counts[1] <= BOARD_QUERY_BUDGET, counts


def test_seed_scale_fills_each_clinic_s_rooms_thirty_sessions_a_weekday(db, staff_login):
    call_command("seed_scale", clients=160, appointments_per_client=2, stdout=io.StringIO())
    clinic = Clinic.objects.filter(slug__startswith="scale-").order_by("pk").first()
    assert Room.objects.filter(clinic=clinic).count() == 6
    day = timezone.localdate(timezone=clinic.zone) + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    start = datetime.combine(day, datetime.min.time(), tzinfo=clinic.zone)
    on_the_board = Appointment.objects.filter(
        clinic=clinic, room__isnull=False, start__gte=start, start__lt=start + timedelta(days=1)
    )
    assert on_the_board.count() == 30
    coordinator = StaffProfile.objects.filter(clinics=clinic, role=StaffRole.COORDINATOR).first()
    body = staff_login(coordinator.user).get(
        "/staff/board/", {"clinic": clinic.slug, "day": day.isoformat()}
    )
    assert body.content.decode().count('class="board-block ') == 30
