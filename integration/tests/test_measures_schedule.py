"""When the PHQ-9 and GAD-7 are asked: before each dosing session (an
invitation written with the booking) and as follow-ups after the series
(written when the course leaves dosing), each e-mailed through the outbox
when it opens. Time is controlled: the schedule is days and weeks long."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from clinic.models import OutboxMessage, Stage
from clinic.outbox import outbox_sweep
from integration.measures import services
from integration.measures.models import MeasureInvitation, MeasureSettings
from integration.tests.measure_factories import answer
from sessions.services import record, scheduling
from sessions.tests.factories import book_dosing, dosing_room, in_stage, team
from sessions.tests.record_factories import series_of

MTL = ZoneInfo("America/Toronto")
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=MTL)
THURSDAY_9 = datetime(2026, 6, 4, 9, 0, tzinfo=MTL)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def dosing_team(clinic_qc, therapist, medical_practitioner):
    return team(dosing_room(clinic_qc), therapist, medical_practitioner)


def emails_sent(now):
    mail.outbox.clear()
    outbox_sweep(now=now)
    return [m for m in mail.outbox if "questionnaire" in m.subject.lower()]


def test_booking_a_dosing_session_invites_the_client_days_before_it(
    clock, client_a, dosing_team, coordinator
):
    course = in_stage(client_a, Stage.DOSING)
    wednesday = THURSDAY_9 - timedelta(days=1)
    later = wednesday + timedelta(days=7)
    sessions = book_dosing(course, [wednesday, later], dosing_team, coordinator)
    first, second = (MeasureInvitation.objects.get(appointment=s.appointment) for s in sessions)
    # Booked two days ahead: open at once; a week later: three days before.
    assert first.opens_at == NOW and first.expires_at == wednesday
    assert second.opens_at == later - timedelta(days=3) and second.expires_at == later
    assert first.kind == MeasureInvitation.Kind.BEFORE_DOSING
    rows = OutboxMessage.objects.filter(kind=services.INVITATION_EMAIL).order_by("due_at")
    assert [r.due_at for r in rows] == [NOW, later - timedelta(days=3)]
    assert len(emails_sent(NOW)) == 1
    clock.move_to(later - timedelta(days=3))
    [email] = emails_sent(later - timedelta(days=3))
    assert email.to == [client_a.user.email]
    assert f"/portal/questionnaires/{second.uuid}/" in email.body


def test_a_refused_booking_writes_no_invitation(clock, client_a, dosing_team, coordinator):
    course = in_stage(client_a, Stage.PREPARE)  # not in dosing: refused
    with pytest.raises(scheduling.SchedulingError):
        book_dosing(course, [THURSDAY_9], dosing_team, coordinator)
    assert not MeasureInvitation.objects.exists()


def test_moving_a_session_re_times_its_invitation_and_the_old_email_is_skipped(
    clock, client_a, dosing_team, coordinator
):
    course = in_stage(client_a, Stage.DOSING)
    start = THURSDAY_9 + timedelta(days=14)
    [session] = book_dosing(course, [start], dosing_team, coordinator)
    moved_to = start + timedelta(days=7)
    scheduling.dosing_session_move(
        session=session,
        start=moved_to,
        team=dosing_team,
        actor=coordinator,
        version=session.appointment.version,
    )
    invitation = MeasureInvitation.objects.get()
    assert invitation.opens_at == moved_to - timedelta(days=3)
    assert invitation.expires_at == moved_to
    assert OutboxMessage.objects.filter(kind=services.INVITATION_EMAIL).count() == 2
    # At the old time nothing goes; at the new one, one e-mail.
    assert emails_sent(start - timedelta(days=3)) == []
    assert len(emails_sent(moved_to - timedelta(days=3))) == 1


def test_follow_ups_open_one_week_one_month_and_three_months_after_the_series_ends(
    clock, client_a, therapist, medical_practitioner
):
    course = in_stage(client_a, Stage.DOSING)
    series = series_of(course, 1, medical_practitioner)
    record.series_end(series=series, actor=therapist, reason="Enough for now.")
    course.refresh_from_db()
    assert course.stage == Stage.INTEGRATE
    follow_ups = list(MeasureInvitation.objects.filter(kind="follow_up").order_by("opens_at"))
    assert [(f.follow_up_days, f.opens_at) for f in follow_ups] == [
        (7, NOW + timedelta(days=7)),
        (30, NOW + timedelta(days=30)),
        (91, NOW + timedelta(days=91)),
    ]
    assert all(f.expires_at - f.opens_at == timedelta(days=14) for f in follow_ups)
    week = follow_ups[0]
    # Six days on: nothing sent, nothing to answer yet.
    clock.move_to(NOW + timedelta(days=6))
    assert emails_sent(NOW + timedelta(days=6)) == []
    with pytest.raises(services.MeasureError, match="not open yet"):
        answer(week, phq9=8, gad7=6)
    # A week on: the first follow-up goes out, once.
    clock.move_to(NOW + timedelta(days=7))
    assert len(emails_sent(NOW + timedelta(days=7))) == 1
    assert emails_sent(NOW + timedelta(days=7, hours=1)) == []
    # Two weeks after it opened, it has expired: refused, nothing saved.
    clock.move_to(NOW + timedelta(days=21))
    with pytest.raises(services.MeasureError, match="passed"):
        answer(week, phq9=8, gad7=6)
    week.refresh_from_db()
    assert week.answered_at is None
    # The month's follow-up, answered in time.
    clock.move_to(NOW + timedelta(days=31))
    assert len(emails_sent(NOW + timedelta(days=31))) == 1
    answer(follow_ups[1], phq9=8, gad7=6)
    # An answered follow-up is not e-mailed again; the three months' one is.
    clock.move_to(NOW + timedelta(days=91))
    assert len(emails_sent(NOW + timedelta(days=91))) == 1


def test_the_clinics_own_follow_up_schedule_is_used(
    clock, clinic_qc, client_a, therapist, medical_practitioner
):
    MeasureSettings.objects.create(clinic=clinic_qc, follow_up_days=[14, 60], valid_days=7)
    course = in_stage(client_a, Stage.DOSING)
    record.series_end(
        series=series_of(course, 1, medical_practitioner), actor=therapist, reason="x"
    )
    rows = MeasureInvitation.objects.order_by("opens_at")
    assert [(r.follow_up_days, r.expires_at - r.opens_at) for r in rows] == [
        (14, timedelta(days=7)),
        (60, timedelta(days=7)),
    ]


def test_a_course_resumed_into_integrate_gets_no_second_set_of_follow_ups(
    clock, client_a, therapist, medical_practitioner
):
    from clinic import journey

    course = in_stage(client_a, Stage.DOSING)
    record.series_end(
        series=series_of(course, 1, medical_practitioner), actor=therapist, reason="x"
    )
    course.refresh_from_db()
    journey.course_transition(course=course, to_stage=Stage.ON_HOLD, actor=therapist, reason="x")
    journey.course_transition(
        course=course, to_stage=Stage.INTEGRATE, actor=therapist, reason="back"
    )
    assert MeasureInvitation.objects.count() == 3


def test_follow_up_days_must_be_a_short_increasing_list():
    from django.core.exceptions import ValidationError

    from integration.measures.models import validate_follow_up_days

    validate_follow_up_days([7, 30, 91])
    for wrong in ([], [30, 7], [7, 7], [0], [7, "30"], "7,30", [1000], list(range(1, 9))):
        with pytest.raises(ValidationError):
            validate_follow_up_days(wrong)
