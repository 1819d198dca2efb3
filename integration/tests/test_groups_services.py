from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied

from clinic import calendar
from clinic.models import Appointment, AppointmentKind, OutboxMessage, Reservation, Stage
from clinic.outbox import outbox_sweep
from clinic.tests.factories import client_create
from sessions.services import scheduling
from sessions.tests.factories import dosing_room, team

from ..groups import services
from ..groups.models import Attendance, Enrolment, GroupMeeting
from ..groups.recurrence import RecurrenceError, occurrences, weekly_rule
from ..groups.selectors import group_overview, portal_groups
from .group_factories import group_room, in_stage, weekly_group

MTL = ZoneInfo("America/Toronto")
pytestmark = pytest.mark.usefixtures("clock")


def integrating(clinic, n, **kwargs):
    clients = [client_create(clinic=clinic, **kwargs) for _ in range(n)]
    for c in clients:
        in_stage(c, Stage.INTEGRATE)
    return clients


# --- The schedule ----------------------------------------------------------------------------


def test_a_weekly_group_stays_at_six_in_the_evening_across_the_autumn_change(
    clinic_qc, coordinator, therapist
):
    # 27 Oct to 10 Nov 2026: clocks go back on Sunday 1 November in Montreal.
    group = weekly_group(
        clinic=clinic_qc,
        coordinator=coordinator,
        facilitators=[therapist],
        first_day=date(2026, 10, 27),
        count=3,
    )
    starts = [
        m.appointment.start for m in group.meetings.select_related("appointment").order_by("number")
    ]
    assert [s.astimezone(MTL).time() for s in starts] == [time(18, 0)] * 3
    # 18:00 EDT is 22:00 UTC; 18:00 EST is 23:00 UTC.
    assert [s.astimezone(ZoneInfo("UTC")).hour for s in starts] == [22, 23, 23]
    assert starts[1] - starts[0] == timedelta(days=7, hours=1)


def test_the_spring_change_keeps_the_wall_clock_time_under_time_machine():
    with time_machine.travel(datetime(2027, 3, 1, 9, 0, tzinfo=MTL), tick=False):
        meetings = occurrences(
            rule=weekly_rule(count=3),
            first_day=date(2027, 3, 9),
            starts_at=time(18, 0),
            ends_at=time(19, 30),
            zone=MTL,
        )
    # Clocks go forward on Sunday 14 March 2027.
    assert [m.start.astimezone(MTL).time() for m in meetings] == [time(18, 0)] * 3
    assert meetings[1].start - meetings[0].start == timedelta(days=7) - timedelta(hours=1)
    assert all(m.end - m.start == timedelta(minutes=90) for m in meetings)


@pytest.mark.parametrize(
    "rule, message",
    [
        ("FREQ=WEEKLY", "never ends"),
        (weekly_rule(count=101), "more than 100"),
        ("FREQ=DAILY;UNTIL=20270101T000000", "more than 100"),
        ("NOT A RULE;COUNT=2", "could not be read"),
    ],
)
def test_it_refuses_a_schedule_that_never_ends_or_makes_too_many_meetings(rule, message):
    with pytest.raises(RecurrenceError, match=message):
        occurrences(
            rule=rule, first_day=date(2026, 6, 2), starts_at=time(18), ends_at=time(19), zone=MTL
        )


def test_each_meeting_holds_the_room_and_the_facilitators(clinic_qc, coordinator, therapist):
    group = weekly_group(clinic=clinic_qc, coordinator=coordinator, facilitators=[therapist])
    assert group.meetings.count() == 8
    appointment = group.meetings.first().appointment
    assert appointment.kind == AppointmentKind.GROUP_MEETING
    held = Reservation.objects.filter(appointment=appointment, is_live=True)
    assert {(r.staff_id, r.room_id) for r in held} == {(therapist.pk, None), (None, group.room_id)}


def test_a_series_with_a_busy_room_lists_every_conflict_and_books_nothing(
    clinic_qc, coordinator, therapist, medical_practitioner
):
    room = group_room(clinic_qc)
    for week in (1, 3):  # meetings 2 and 4 would land on these
        start = datetime(2026, 6, 2, 17, 30, tzinfo=MTL) + timedelta(weeks=week)
        calendar.appointment_book(
            clinic=clinic_qc,
            kind=AppointmentKind.PREPARATORY_SESSION,
            start=start,
            end=start + timedelta(hours=1),
            staff=[medical_practitioner],
            room=room,
        )
    before = Appointment.objects.count()
    with pytest.raises(services.ScheduleConflicts) as caught:
        weekly_group(clinic=clinic_qc, coordinator=coordinator, facilitators=[therapist], room=room)
    assert [start.date() for start, _reasons in caught.value.conflicts] == [
        date(2026, 6, 9),
        date(2026, 6, 23),
    ]
    assert "Salle Cercle is taken" in caught.value.conflicts[0][1][0]
    assert Appointment.objects.count() == before
    assert not GroupMeeting.objects.exists()


def test_only_a_coordinator_of_the_clinic_schedules_a_group(clinic_qc, therapist):
    with pytest.raises(PermissionDenied):
        weekly_group(clinic=clinic_qc, coordinator=therapist, facilitators=[therapist])


def test_one_meeting_is_cancelled_or_moved_without_touching_the_others(
    clinic_qc, coordinator, therapist
):
    group = weekly_group(clinic=clinic_qc, coordinator=coordinator, facilitators=[therapist])
    [member] = integrating(clinic_qc, 1)
    services.group_enrol(group=group, client=member)
    first, second, *rest = group.meetings.select_related("appointment").order_by("number")
    services.meeting_cancel(meeting=first, actor=coordinator)
    assert not Reservation.objects.filter(appointment=first.appointment, is_live=True).exists()
    new_start = datetime(2026, 6, 10, 18, 0, tzinfo=MTL)
    services.meeting_move(
        meeting=second, actor=coordinator, start=new_start, end=new_start + timedelta(hours=1)
    )
    second.appointment.refresh_from_db()
    assert second.appointment.start == new_start
    # The member is held at the new time, and the other meetings did not move.
    assert Reservation.objects.filter(
        appointment=second.appointment, client=member, start=new_start
    ).exists()
    assert all(m.appointment.status == Appointment.Status.BOOKED for m in rest)
    assert Reservation.objects.filter(client=member, is_live=True).count() == 7


# --- Places and the waitlist ---------------------------------------------------------------


def test_an_enrolled_client_is_held_in_every_future_meeting_so_dosing_cannot_be_booked_over_it(
    clinic_qc, coordinator, therapist, medical_practitioner
):
    group = weekly_group(clinic=clinic_qc, coordinator=coordinator, facilitators=[therapist])
    [member] = integrating(clinic_qc, 1)
    services.group_enrol(group=group, client=member)
    assert Reservation.objects.filter(client=member, is_live=True).count() == 8
    course = in_stage(member, Stage.DOSING)
    other = client_create(clinic=clinic_qc)  # noqa: F841
    from clinic.models import StaffRole
    from clinic.tests.factories import staff_create

    therapist_2 = staff_create(role=StaffRole.THERAPIST, clinics=[clinic_qc])
    with pytest.raises(scheduling.SchedulingError, match="client"):
        scheduling.dosing_sessions_book(
            course=course,
            starts=[datetime(2026, 6, 9, 17, 0, tzinfo=MTL)],
            team=team(dosing_room(clinic_qc), therapist_2, medical_practitioner),
            actor=coordinator,
        )


def test_a_full_group_offers_the_waitlist_and_promotes_the_first_when_a_place_frees(
    clinic_qc, coordinator, therapist
):
    group = weekly_group(
        clinic=clinic_qc, coordinator=coordinator, facilitators=[therapist], capacity=1
    )
    first, second, third = integrating(clinic_qc, 3)
    first_place = services.group_enrol(group=group, client=first)
    with pytest.raises(services.GroupError, match="full"):
        services.group_enrol(group=group, client=second)
    waiting = services.group_enrol(group=group, client=second, waitlist=True)
    services.group_enrol(group=group, client=third, waitlist=True)
    assert waiting.status == Enrolment.Status.WAITLISTED
    assert services.waitlist_position(waiting) == 1

    promoted = services.group_leave(enrolment=first_place)

    assert [e.client for e in promoted] == [second]
    waiting.refresh_from_db()
    assert waiting.status == Enrolment.Status.ENROLLED
    assert Reservation.objects.filter(client=second, is_live=True).count() == 8
    assert not Reservation.objects.filter(client=first).exists()
    assert OutboxMessage.objects.filter(kind=services.PROMOTED).count() == 1
    second.user.preferred_language = "fr"
    second.user.save()
    outbox_sweep()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [second.user.email]
    assert "Une place" in mail.outbox[0].subject and "(fr)" in mail.outbox[0].subject


def test_more_places_promote_from_the_waitlist_in_order(clinic_qc, coordinator, therapist):
    group = weekly_group(
        clinic=clinic_qc, coordinator=coordinator, facilitators=[therapist], capacity=1
    )
    a, b, c = integrating(clinic_qc, 3)
    services.group_enrol(group=group, client=a)
    services.group_enrol(group=group, client=b, waitlist=True)
    services.group_enrol(group=group, client=c, waitlist=True)
    services.group_update(group=group, actor=coordinator, capacity=2)
    statuses = dict(Enrolment.objects.values_list("client_id", "status"))
    assert statuses == {a.pk: "enrolled", b.pk: "enrolled", c.pk: "waitlisted"}


def test_fewer_places_move_the_last_enrolled_to_the_head_of_the_waitlist_in_order(
    clinic_qc, coordinator, therapist
):
    group = weekly_group(
        clinic=clinic_qc, coordinator=coordinator, facilitators=[therapist], capacity=3
    )
    a, b, c, d = integrating(clinic_qc, 4)
    for person in (a, b, c):
        services.group_enrol(group=group, client=person)
    services.group_enrol(group=group, client=d, waitlist=True)

    services.group_update(group=group, actor=coordinator, capacity=1)

    overview = group_overview(group=group)
    assert [r.enrolment.client for r in overview.members] == [a]
    assert [r.enrolment.client for r in overview.waitlist] == [b, c, d]
    assert not Reservation.objects.filter(client__in=[b, c]).exists()
    told = OutboxMessage.objects.filter(kind=services.WAITLISTED).count()
    assert told == 2


@pytest.mark.parametrize(
    "stage, same_clinic, message",
    [
        (Stage.CONNECT, True, "not open to you"),
        (Stage.INTEGRATE, False, "not open to you"),
    ],
)
def test_it_refuses_a_client_whose_stage_or_clinic_the_group_does_not_take(
    clinic_qc, clinic_bc, coordinator, therapist, stage, same_clinic, message
):
    group = weekly_group(clinic=clinic_qc, coordinator=coordinator, facilitators=[therapist])
    person = client_create(clinic=clinic_qc if same_clinic else clinic_bc)
    in_stage(person, stage)
    with pytest.raises(services.GroupError, match=message):
        services.group_enrol(group=group, client=person)
    assert not Enrolment.objects.exists()


def test_enrolling_twice_is_refused_and_changes_nothing(clinic_qc, coordinator, therapist):
    group = weekly_group(clinic=clinic_qc, coordinator=coordinator, facilitators=[therapist])
    [person] = integrating(clinic_qc, 1)
    services.group_enrol(group=group, client=person)
    with pytest.raises(services.GroupError, match="already"):
        services.group_enrol(group=group, client=person, waitlist=True)
    assert Enrolment.objects.count() == 1
    assert Reservation.objects.filter(client=person).count() == 8


def test_the_portal_shows_places_left_and_the_waitlist_position(clinic_qc, coordinator, therapist):
    group = weekly_group(
        clinic=clinic_qc, coordinator=coordinator, facilitators=[therapist], capacity=1
    )
    a, b, c = integrating(clinic_qc, 3)
    services.group_enrol(group=group, client=a)
    services.group_enrol(group=group, client=b, waitlist=True)
    services.group_enrol(group=group, client=c, waitlist=True)
    seen_by_c = portal_groups(client=c)
    assert [row.waitlist_position for row in seen_by_c.mine] == [2]
    fresh = integrating(clinic_qc, 1)[0]
    [row] = portal_groups(client=fresh).open
    assert row.is_full and row.schedule == "every Tuesday at 6:00 p.m."


# --- Attendance ---------------------------------------------------------------------------------


def test_a_facilitator_takes_attendance_once_the_meeting_started_and_the_rates_follow(
    clinic_qc, coordinator, therapist, medical_practitioner, clock
):
    group = weekly_group(clinic=clinic_qc, coordinator=coordinator, facilitators=[therapist])
    a, b = integrating(clinic_qc, 2)
    ea = services.group_enrol(group=group, client=a)
    eb = services.group_enrol(group=group, client=b)
    meeting = group.meetings.select_related("appointment").get(number=1)
    with pytest.raises(services.GroupError, match="started"):
        services.attendance_take(meeting=meeting, actor=therapist, marks={ea.pk: "present"})
    clock.move_to(datetime(2026, 6, 2, 18, 10, tzinfo=MTL))
    with pytest.raises(PermissionDenied):
        services.attendance_take(
            meeting=meeting, actor=medical_practitioner, marks={ea.pk: "present"}
        )
    services.attendance_take(
        meeting=meeting, actor=therapist, marks={ea.pk: "present", eb.pk: "excused"}
    )
    services.attendance_take(  # the same sheet sent twice: still two rows
        meeting=meeting, actor=therapist, marks={ea.pk: "present", eb.pk: "excused"}
    )
    assert Attendance.objects.count() == 2
    overview = group_overview(group=group)
    assert overview.rate == 50
    assert overview.meetings[0].rate == 50
    assert [row.rate for row in overview.members] == [100, 0]


def test_group_meetings_show_on_the_room_board(clinic_qc, coordinator, therapist):
    from sessions.selectors.board import room_day

    group = weekly_group(clinic=clinic_qc, coordinator=coordinator, facilitators=[therapist])
    board = room_day(clinic=clinic_qc, day=date(2026, 6, 2))
    [row] = [r for r in board.rows if r.room == group.room]
    [block] = row.blocks
    assert block.appointment.kind == AppointmentKind.GROUP_MEETING
    assert block.times.startswith("6:00")
