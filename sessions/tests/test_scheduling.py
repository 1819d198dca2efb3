"""Booking, moving and cancelling assessments, preparatory and dosing
sessions through the scheduling services: who may, for whom, where, with
whom, and the series' rules. Each refusal changes nothing already saved."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from clinic import calendar
from clinic.models import (
    Appointment,
    AppointmentKind,
    OutboxMessage,
    Reservation,
    StaffRole,
    Stage,
)
from clinic.tests.factories import client_create, staff_create
from sessions.models import DosingSeries, DosingSession, DosingSettings, PreparationAppointment
from sessions.services import scheduling
from sessions.services.scheduling import SchedulingError
from sessions.tests.conftest import MTL, THURSDAY_9
from sessions.tests.factories import book_dosing, dosing_room, in_stage, team

pytestmark = pytest.mark.usefixtures("clock")


def nothing_booked():
    return (
        Appointment.objects.count(),
        Reservation.objects.count(),
        DosingSeries.objects.count(),
        DosingSession.objects.count(),
        OutboxMessage.objects.filter(kind__startswith="dosing.").count(),
    ) == (0, 0, 0, 0, 0)


# --- A dosing session ----------------------------------------------------------------------


def test_a_dosing_session_holds_the_room_the_client_and_both_clinicians(
    course_in_dosing, dosing_team, coordinator, therapist, medical_practitioner, room
):
    [session] = book_dosing(course_in_dosing, [THURSDAY_9], dosing_team, coordinator)
    appointment = session.appointment
    assert appointment.kind == AppointmentKind.DOSING_SESSION
    assert appointment.end - appointment.start == timedelta(minutes=180)
    assert appointment.room == room and appointment.client == course_in_dosing.client
    held = {
        (r.staff_id, r.room_id, r.client_id): (r.start, r.end)
        for r in Reservation.objects.filter(appointment=appointment)
    }
    noon = THURSDAY_9 + timedelta(hours=3)
    # The cleaning holds the room, not the people.
    assert held == {
        (therapist.pk, None, None): (THURSDAY_9, noon),
        (medical_practitioner.pk, None, None): (THURSDAY_9, noon),
        (None, room.pk, None): (THURSDAY_9, noon + timedelta(minutes=30)),
        (None, None, course_in_dosing.client_id): (THURSDAY_9, noon),
    }
    series = session.series
    assert (series.course, series.planned_sessions, series.planned_by) == (
        course_in_dosing,
        1,
        coordinator,
    )


def test_the_clinic_settings_set_the_length_and_the_cleaning(
    course_in_dosing, dosing_team, coordinator, clinic_qc, room
):
    DosingSettings.objects.create(clinic=clinic_qc, session_minutes=120, cleaning_buffer_minutes=45)
    [session] = book_dosing(course_in_dosing, [THURSDAY_9], dosing_team, coordinator)
    assert session.appointment.end == THURSDAY_9 + timedelta(hours=2)
    assert Reservation.objects.get(room=room).end == THURSDAY_9 + timedelta(hours=2, minutes=45)


def test_after_the_session_the_people_are_free_but_the_room_is_being_cleaned(
    course_in_dosing, dosing_team, coordinator, therapist, room, consult_room, client_b
):
    book_dosing(course_in_dosing, [THURSDAY_9], dosing_team, coordinator)
    other = in_stage(client_b, Stage.PREPARE)
    noon = THURSDAY_9 + timedelta(hours=3)
    # The therapist goes on to a preparatory session in another room at noon.
    scheduling.preparation_appointment_book(
        course=other,
        kind=AppointmentKind.PREPARATORY_SESSION,
        start=noon,
        staff_member=therapist,
        room=consult_room,
        actor=coordinator,
    )
    # The dosing room itself is not free before 12:30.
    another = staff_create(role=StaffRole.THERAPIST, clinics=[room.clinic])
    with pytest.raises(SchedulingError, match="Salle Fleuve is taken 9:00 a.m.–12:30 p.m."):
        scheduling.preparation_appointment_book(
            course=other,
            kind=AppointmentKind.PREPARATORY_SESSION,
            start=noon + timedelta(minutes=15),
            staff_member=another,
            room=room,
            actor=coordinator,
        )
    scheduling.preparation_appointment_book(
        course=other,
        kind=AppointmentKind.PREPARATORY_SESSION,
        start=noon + timedelta(hours=2),
        staff_member=another,
        room=room,
        actor=coordinator,
    )


@pytest.mark.parametrize("stage", [Stage.CONNECT, Stage.PREPARE, Stage.INTEGRATE, Stage.ON_HOLD])
def test_only_a_client_in_dosing_can_be_booked_for_a_dosing_session(
    client_a, dosing_team, coordinator, stage
):
    course = in_stage(client_a, stage) if stage != Stage.ON_HOLD else None
    if course is None:
        from clinic.models import Course

        course = client_a.courses.get()
        Course.objects.filter(pk=course.pk).update(stage=Stage.ON_HOLD, stage_before_hold="dosing")
        course.refresh_from_db()
    with pytest.raises(SchedulingError) as refused:
        book_dosing(course, [THURSDAY_9], dosing_team, coordinator)
    assert str(refused.value) == (
        "A dosing session can be booked only for a client whose course is in the dosing stage."
    )
    assert nothing_booked()


def test_the_stage_is_read_again_under_the_lock(client_a, dosing_team, coordinator):
    """A page read while the course was in dosing: it has moved on since."""
    course = in_stage(client_a, Stage.DOSING)
    in_stage(client_a, Stage.INTEGRATE)
    with pytest.raises(SchedulingError, match="only for a client whose course is in the dosing"):
        book_dosing(course, [THURSDAY_9], dosing_team, coordinator)
    assert nothing_booked()


def test_a_dosing_session_needs_a_dosing_room_of_the_clinic(
    course_in_dosing, therapist, medical_practitioner, coordinator, consult_room, clinic_bc
):
    with pytest.raises(SchedulingError, match="Dosing sessions take place in a dosing room."):
        book_dosing(
            course_in_dosing,
            [THURSDAY_9],
            team(consult_room, therapist, medical_practitioner),
            coordinator,
        )
    elsewhere = dosing_room(clinic_bc, "Cedar Room")
    with pytest.raises(SchedulingError, match="not one of this clinic's rooms"):
        book_dosing(
            course_in_dosing,
            [THURSDAY_9],
            team(elsewhere, therapist, medical_practitioner),
            coordinator,
        )
    assert nothing_booked()


def test_a_dosing_session_needs_a_therapist_and_a_medical_practitioner_of_the_clinic(
    course_in_dosing, room, therapist, medical_practitioner, coordinator, other_clinic_therapist
):
    for wrong, message in (
        (team(room, medical_practitioner, medical_practitioner), "Choose a therapist"),
        (team(room, therapist, therapist), "Choose a medical practitioner"),
        (team(room, other_clinic_therapist, medical_practitioner), "Choose a therapist"),
        (team(room, coordinator, medical_practitioner), "Choose a therapist"),
    ):
        with pytest.raises(SchedulingError, match=message):
            book_dosing(course_in_dosing, [THURSDAY_9], wrong, coordinator)
    assert nothing_booked()


@pytest.mark.parametrize(
    "who", ["coordinator", "therapist", "medical_practitioner"], ids=lambda who: f"{who}-may"
)
def test_coordinators_and_clinicians_of_the_clinic_may_book(
    request, course_in_dosing, dosing_team, who
):
    actor = request.getfixturevalue(who)
    assert book_dosing(course_in_dosing, [THURSDAY_9], dosing_team, actor)


@pytest.mark.parametrize("who", ["privacy_officer", "other_clinic_therapist", "client_b"])
def test_nobody_else_may_book_move_or_cancel(
    request, course_in_dosing, dosing_team, coordinator, who
):
    actor = request.getfixturevalue(who)
    actor = getattr(actor, "user", actor)
    with pytest.raises(SchedulingError, match="Only the coordinators and clinicians"):
        book_dosing(course_in_dosing, [THURSDAY_9], dosing_team, actor)
    assert nothing_booked()
    [session] = book_dosing(course_in_dosing, [THURSDAY_9], dosing_team, coordinator)
    appointment = session.appointment
    with pytest.raises(SchedulingError, match="Only the coordinators and clinicians"):
        scheduling.dosing_session_move(
            session=session,
            start=THURSDAY_9 + timedelta(days=1),
            team=dosing_team,
            actor=actor,
            version=appointment.version,
        )
    with pytest.raises(SchedulingError, match="Only the coordinators and clinicians"):
        scheduling.booking_cancel(appointment=appointment, actor=actor, version=1)
    appointment.refresh_from_db()
    assert (appointment.start, appointment.status) == (THURSDAY_9, "booked")


def test_a_time_already_past_is_refused(course_in_dosing, dosing_team, coordinator):
    with pytest.raises(SchedulingError, match="already passed"):
        book_dosing(
            course_in_dosing, [timezone.now() - timedelta(hours=1)], dosing_team, coordinator
        )
    assert nothing_booked()


# --- A series ---------------------------------------------------------------------------------


def weekly(count, first=THURSDAY_9, every=7):
    return [first + timedelta(days=every * i) for i in range(count)]


def test_a_series_is_booked_whole_and_plans_its_length(course_in_dosing, dosing_team, coordinator):
    sessions = book_dosing(course_in_dosing, weekly(4), dosing_team, coordinator)
    assert [s.appointment.start for s in sessions] == weekly(4)
    series = DosingSeries.objects.get()
    assert series.planned_sessions == 4
    assert {s.series_id for s in sessions} == {series.pk}
    # Each session's messages are queued: confirmation and the two reminders.
    assert OutboxMessage.objects.filter(kind__startswith="dosing.").count() == 12


def test_one_busy_session_refuses_the_whole_series_and_says_which_and_what(
    course_in_dosing, dosing_team, coordinator, client_b, therapist, room_2
):
    other = in_stage(client_b, Stage.DOSING)
    another_md = staff_create(role=StaffRole.MEDICAL_PRACTITIONER, clinics=[room_2.clinic])
    third = weekly(3)[2]
    book_dosing(
        other, [third + timedelta(hours=1)], team(room_2, therapist, another_md), coordinator
    )
    before = Appointment.objects.count(), OutboxMessage.objects.count()
    with pytest.raises(SchedulingError) as refused:
        book_dosing(course_in_dosing, weekly(3), dosing_team, coordinator)
    assert str(refused.value) == (
        "Session 3 of 3 (Thursday June 18, 2026, 9:00 a.m.) cannot be booked: "
        f"{therapist.get_full_name()} is busy 10:00 a.m.–1:00 p.m. (dosing session)."
    )
    assert (Appointment.objects.count(), OutboxMessage.objects.count()) == before
    assert not DosingSeries.objects.filter(course=course_in_dosing).exists()


def test_the_room_being_cleaned_is_named_as_busy(
    course_in_dosing, dosing_team, coordinator, client_b, room, clinic_qc
):
    other = in_stage(client_b, Stage.DOSING)
    second = team(
        room,
        staff_create(role=StaffRole.THERAPIST, clinics=[clinic_qc]),
        staff_create(role=StaffRole.MEDICAL_PRACTITIONER, clinics=[clinic_qc]),
    )
    book_dosing(other, [THURSDAY_9], second, coordinator)
    with pytest.raises(SchedulingError) as refused:
        book_dosing(course_in_dosing, [THURSDAY_9 + timedelta(hours=3)], dosing_team, coordinator)
    assert "Salle Fleuve is taken 9:00 a.m.–12:30 p.m. (dosing session, cleaning included)" in str(
        refused.value
    )


def test_a_series_longer_than_the_clinic_allows_is_refused(
    course_in_dosing, dosing_team, coordinator
):
    with pytest.raises(SchedulingError, match="Book from 1 to 6 sessions at once."):
        book_dosing(course_in_dosing, weekly(7), dosing_team, coordinator)
    with pytest.raises(SchedulingError, match="Book from 1 to 6 sessions at once."):
        book_dosing(course_in_dosing, [], dosing_team, coordinator)
    assert nothing_booked()


def test_sessions_closer_than_the_clinic_allows_are_refused(
    course_in_dosing, dosing_team, coordinator
):
    with pytest.raises(SchedulingError) as refused:
        book_dosing(course_in_dosing, weekly(3, every=4), dosing_team, coordinator)
    assert str(refused.value).startswith(
        "Session 2 of 3 (Monday June 8, 2026, 9:00 a.m.) is 4 days from the session on "
        "June 4, 2026: dosing sessions are at least 5 days apart."
    )
    assert nothing_booked()
    # Five days is enough.
    assert len(book_dosing(course_in_dosing, weekly(3, every=5), dosing_team, coordinator)) == 3


@pytest.mark.parametrize(
    ("first", "second"),
    [
        # Across the autumn change (1 November 2026): 5 local days, 121 hours.
        (datetime(2026, 10, 28, 9, 0, tzinfo=MTL), datetime(2026, 11, 2, 9, 0, tzinfo=MTL)),
        # Across the spring change (8 March 2027), earlier in the day: 5 local days, under 120 hours.
        (datetime(2027, 3, 4, 10, 0, tzinfo=MTL), datetime(2027, 3, 9, 8, 0, tzinfo=MTL)),
    ],
)
def test_the_interval_counts_the_clinic_s_local_days_across_daylight_saving_changes(
    course_in_dosing, dosing_team, coordinator, first, second
):
    sessions = book_dosing(course_in_dosing, [first, second], dosing_team, coordinator)
    assert len(sessions) == 2


def test_a_series_keeps_the_local_time_across_a_daylight_saving_change(clinic_qc):
    starts = scheduling.series_starts(
        clinic=clinic_qc,
        first=datetime(2026, 10, 22, 9, 0, tzinfo=MTL),
        count=3,
        every_days=7,
    )
    assert [s.astimezone(MTL).hour for s in starts] == [9, 9, 9]
    assert [s.astimezone(ZoneInfo("UTC")).hour for s in starts] == [13, 13, 14]


def test_an_extra_session_keeps_the_interval_with_its_neighbours(
    course_in_dosing, dosing_team, coordinator
):
    book_dosing(course_in_dosing, weekly(2), dosing_team, coordinator)
    between = THURSDAY_9 + timedelta(days=4)
    with pytest.raises(SchedulingError, match="is 4 days from the session on June 4, 2026"):
        book_dosing(course_in_dosing, [between], dosing_team, coordinator)
    with pytest.raises(SchedulingError, match="is 3 days from the session on June 11, 2026"):
        book_dosing(course_in_dosing, [THURSDAY_9 + timedelta(days=10)], dosing_team, coordinator)
    book_dosing(course_in_dosing, [THURSDAY_9 + timedelta(days=16)], dosing_team, coordinator)
    assert DosingSeries.objects.get().planned_sessions == 3


def test_a_cancelled_place_is_filled_without_growing_the_plan(
    course_in_dosing, dosing_team, coordinator
):
    sessions = book_dosing(course_in_dosing, weekly(3), dosing_team, coordinator)
    cancelled = sessions[1].appointment
    scheduling.booking_cancel(appointment=cancelled, actor=coordinator, version=1)
    # The cancelled session no longer keeps its neighbours apart.
    book_dosing(course_in_dosing, [THURSDAY_9 + timedelta(days=9)], dosing_team, coordinator)
    assert DosingSeries.objects.get().planned_sessions == 3


def test_a_deferred_session_leaves_its_place_to_fill(
    course_in_dosing, dosing_team, coordinator, medical_practitioner
):
    [session] = book_dosing(course_in_dosing, [THURSDAY_9], dosing_team, coordinator)
    DosingSession.objects.filter(pk=session.pk).update(
        outcome="deferred",
        outcome_at=timezone.now(),
        deferred_by=medical_practitioner,
        deferral_reason="Blood pressure 165/102.",
    )
    book_dosing(course_in_dosing, [THURSDAY_9 + timedelta(days=1)], dosing_team, coordinator)
    assert DosingSeries.objects.get().planned_sessions == 1


def test_extra_sessions_stop_at_the_clinic_s_most_in_a_series(
    course_in_dosing, dosing_team, coordinator
):
    book_dosing(course_in_dosing, weekly(6), dosing_team, coordinator)
    with pytest.raises(SchedulingError, match="This would make 7 sessions in the series"):
        book_dosing(course_in_dosing, [THURSDAY_9 + timedelta(days=50)], dosing_team, coordinator)
    assert DosingSeries.objects.get().planned_sessions == 6


def test_a_series_ended_early_takes_no_more_sessions(
    course_in_dosing, dosing_team, coordinator, therapist
):
    book_dosing(course_in_dosing, [THURSDAY_9], dosing_team, coordinator)
    DosingSeries.objects.update(ended_at=timezone.now(), ended_by=therapist, end_reason="Enough.")
    with pytest.raises(SchedulingError, match="dosing series has ended"):
        book_dosing(course_in_dosing, [THURSDAY_9 + timedelta(days=7)], dosing_team, coordinator)


# --- Moving and cancelling -------------------------------------------------------------------


def test_a_session_moves_to_another_time_room_and_team_and_its_version_goes_up(
    course_in_dosing, dosing_team, coordinator, room_2, clinic_qc, medical_practitioner
):
    [session] = book_dosing(course_in_dosing, [THURSDAY_9], dosing_team, coordinator)
    other_therapist = staff_create(role=StaffRole.THERAPIST, clinics=[clinic_qc])
    friday = THURSDAY_9 + timedelta(days=1, hours=1)
    scheduling.dosing_session_move(
        session=session,
        start=friday,
        team=team(room_2, other_therapist, medical_practitioner),
        actor=coordinator,
        version=1,
    )
    appointment = session.appointment
    assert (appointment.start, appointment.room, appointment.version) == (friday, room_2, 2)
    assert set(appointment.staff.all()) == {other_therapist, medical_practitioner}
    assert Reservation.objects.get(room=room_2).end == friday + timedelta(hours=3, minutes=30)
    assert not Reservation.objects.filter(room=dosing_team.room).exists()


def test_a_move_from_a_stale_page_or_a_second_click_moves_nothing(
    course_in_dosing, dosing_team, coordinator
):
    [session] = book_dosing(course_in_dosing, [THURSDAY_9], dosing_team, coordinator)
    friday = THURSDAY_9 + timedelta(days=1)
    scheduling.dosing_session_move(
        session=session, start=friday, team=dosing_team, actor=coordinator, version=1
    )
    with pytest.raises(SchedulingError, match="changed in the meantime"):
        scheduling.dosing_session_move(
            session=session,
            start=friday + timedelta(days=1),
            team=dosing_team,
            actor=coordinator,
            version=1,
        )
    session.appointment.refresh_from_db()
    assert (session.appointment.start, session.appointment.version) == (friday, 2)


def test_a_move_keeps_the_interval_with_the_other_sessions(
    course_in_dosing, dosing_team, coordinator
):
    first, second = book_dosing(course_in_dosing, weekly(2), dosing_team, coordinator)
    with pytest.raises(SchedulingError, match="is 2 days from the session on June 11, 2026"):
        scheduling.dosing_session_move(
            session=first,
            start=THURSDAY_9 + timedelta(days=5),
            team=dosing_team,
            actor=coordinator,
            version=1,
        )
    # Its own old time does not count against it.
    scheduling.dosing_session_move(
        session=first,
        start=THURSDAY_9 + timedelta(days=2),
        team=dosing_team,
        actor=coordinator,
        version=1,
    )


def test_a_session_of_a_course_that_moved_on_can_be_cancelled_not_moved(
    course_in_dosing, dosing_team, coordinator, client_a
):
    [session] = book_dosing(course_in_dosing, [THURSDAY_9], dosing_team, coordinator)
    in_stage(client_a, Stage.INTEGRATE)
    with pytest.raises(SchedulingError, match="only for a client whose course is in the dosing"):
        scheduling.dosing_session_move(
            session=session,
            start=THURSDAY_9 + timedelta(days=1),
            team=dosing_team,
            actor=coordinator,
            version=1,
        )
    scheduling.booking_cancel(appointment=session.appointment, actor=coordinator, version=1)
    session.appointment.refresh_from_db()
    assert session.appointment.status == "cancelled"
    assert not Reservation.objects.filter(is_live=True).exists()


def test_cancelling_frees_everything_once(course_in_dosing, dosing_team, coordinator):
    [session] = book_dosing(course_in_dosing, [THURSDAY_9], dosing_team, coordinator)
    scheduling.booking_cancel(appointment=session.appointment, actor=coordinator, version=1)
    with pytest.raises(SchedulingError, match="changed in the meantime"):
        scheduling.booking_cancel(appointment=session.appointment, actor=coordinator, version=1)
    assert OutboxMessage.objects.filter(kind=scheduling.CANCELLED).count() == 1
    # The time is free again for the same people, room and client.
    book_dosing(course_in_dosing, [THURSDAY_9], dosing_team, coordinator)


def test_a_session_that_has_started_is_not_moved_or_cancelled_here(
    course_in_dosing, dosing_team, coordinator, clock
):
    [session] = book_dosing(course_in_dosing, [THURSDAY_9], dosing_team, coordinator)
    clock.move_to(THURSDAY_9 + timedelta(minutes=5))
    with pytest.raises(SchedulingError, match="already started"):
        scheduling.booking_cancel(appointment=session.appointment, actor=coordinator, version=1)
    session.appointment.refresh_from_db()
    assert session.appointment.status == "booked"


# --- Assessments and preparatory sessions ----------------------------------------------------


def test_a_medical_assessment_is_with_a_medical_practitioner(
    course_in_prepare, medical_practitioner, therapist, coordinator, consult_room
):
    preparation = scheduling.preparation_appointment_book(
        course=course_in_prepare,
        kind=AppointmentKind.MEDICAL_ASSESSMENT,
        start=THURSDAY_9,
        staff_member=medical_practitioner,
        room=consult_room,
        actor=coordinator,
    )
    appointment = preparation.appointment
    assert (appointment.kind, appointment.room, appointment.end - appointment.start) == (
        AppointmentKind.MEDICAL_ASSESSMENT,
        consult_room,
        timedelta(hours=1),
    )
    assert list(appointment.staff.all()) == [medical_practitioner]
    assert (preparation.course, preparation.booked_by) == (course_in_prepare, coordinator)
    with pytest.raises(SchedulingError, match="Choose a medical practitioner"):
        scheduling.preparation_appointment_book(
            course=course_in_prepare,
            kind=AppointmentKind.MEDICAL_ASSESSMENT,
            start=THURSDAY_9 + timedelta(days=1),
            staff_member=therapist,
            actor=coordinator,
        )


def test_a_preparatory_session_is_with_a_therapist_by_video_or_in_a_room(
    course_in_prepare, medical_practitioner, therapist, coordinator
):
    preparation = scheduling.preparation_appointment_book(
        course=course_in_prepare,
        kind=AppointmentKind.PREPARATORY_SESSION,
        start=THURSDAY_9,
        minutes=90,
        staff_member=therapist,
        room=None,
        actor=coordinator,
    )
    assert preparation.appointment.room is None
    assert preparation.appointment.end == THURSDAY_9 + timedelta(minutes=90)
    with pytest.raises(SchedulingError, match="Choose a therapist"):
        scheduling.preparation_appointment_book(
            course=course_in_prepare,
            kind=AppointmentKind.PREPARATORY_SESSION,
            start=THURSDAY_9 + timedelta(days=1),
            staff_member=medical_practitioner,
            actor=coordinator,
        )


@pytest.mark.parametrize(
    ("stage", "allowed"),
    [
        (Stage.CONNECT, False),
        (Stage.PREPARE, True),
        (Stage.DOSING, True),  # a re-assessment after a deferral, another preparatory session
        (Stage.INTEGRATE, False),
        (Stage.WITHDRAWN, False),
    ],
)
@pytest.mark.parametrize(
    "kind", [AppointmentKind.MEDICAL_ASSESSMENT, AppointmentKind.PREPARATORY_SESSION]
)
def test_preparation_appointments_are_for_prepare_and_dosing_only(
    client_b, medical_practitioner, therapist, coordinator, stage, allowed, kind
):
    course = in_stage(client_b, stage)
    book = lambda: scheduling.preparation_appointment_book(  # noqa: E731
        course=course,
        kind=kind,
        start=THURSDAY_9,
        staff_member=medical_practitioner
        if kind == AppointmentKind.MEDICAL_ASSESSMENT
        else therapist,
        actor=coordinator,
    )
    if allowed:
        assert book().appointment.kind == kind
    else:
        with pytest.raises(
            SchedulingError, match="only for a client whose course is in the prepare"
        ):
            book()
        assert not PreparationAppointment.objects.exists()


def test_an_appointment_length_out_of_bounds_is_refused(course_in_prepare, therapist, coordinator):
    for minutes in (5, 600):
        with pytest.raises(SchedulingError, match="between 15 minutes and 4 hours"):
            scheduling.preparation_appointment_book(
                course=course_in_prepare,
                kind=AppointmentKind.PREPARATORY_SESSION,
                start=THURSDAY_9,
                minutes=minutes,
                staff_member=therapist,
                actor=coordinator,
            )
    assert not Appointment.objects.exists()


def test_a_dosing_session_is_not_booked_as_a_preparation(course_in_dosing, therapist, coordinator):
    with pytest.raises(SchedulingError, match="not scheduled here"):
        scheduling.preparation_appointment_book(
            course=course_in_dosing,
            kind=AppointmentKind.DOSING_SESSION,
            start=THURSDAY_9,
            staff_member=therapist,
            actor=coordinator,
        )


def test_a_preparation_moves_and_cancels(course_in_prepare, therapist, coordinator, consult_room):
    preparation = scheduling.preparation_appointment_book(
        course=course_in_prepare,
        kind=AppointmentKind.PREPARATORY_SESSION,
        start=THURSDAY_9,
        staff_member=therapist,
        actor=coordinator,
    )
    later = THURSDAY_9 + timedelta(hours=5)
    scheduling.preparation_appointment_move(
        preparation=preparation,
        start=later,
        minutes=45,
        staff_member=therapist,
        room=consult_room,
        actor=coordinator,
        version=1,
    )
    appointment = preparation.appointment
    assert (appointment.start, appointment.end, appointment.room, appointment.version) == (
        later,
        later + timedelta(minutes=45),
        consult_room,
        2,
    )
    scheduling.booking_cancel(appointment=appointment, actor=coordinator, version=2)
    appointment.refresh_from_db()
    assert appointment.status == "cancelled"


# --- The calendar's buffers, as intake uses them ---------------------------------------------


def test_a_booking_without_a_room_buffer_holds_the_room_as_long_as_the_people(
    clinic_qc, therapist, room, client_a
):
    """Intake's behaviour, kept: one buffer for everything the booking holds."""
    appointment = calendar.appointment_book(
        clinic=clinic_qc,
        kind=AppointmentKind.INTAKE_CALL,
        start=THURSDAY_9,
        end=THURSDAY_9 + timedelta(minutes=30),
        staff=[therapist],
        client=client_a,
        room=room,
        buffer=timedelta(minutes=10),
    )
    ends = {
        ("staff" if r.staff_id else "room" if r.room_id else "client"): r.end
        for r in appointment.reservations.all()
    }
    assert ends == {
        "staff": THURSDAY_9 + timedelta(minutes=40),
        "room": THURSDAY_9 + timedelta(minutes=40),
        "client": THURSDAY_9 + timedelta(minutes=30),
    }


def test_a_client_of_another_clinic_is_not_booked_in_this_one(clinic_bc, dosing_team, coordinator):
    stranger = client_create(clinic=clinic_bc, email="bc.client@example.com")
    course = in_stage(stranger, Stage.DOSING)
    with pytest.raises(SchedulingError, match="Only the coordinators and clinicians"):
        book_dosing(course, [THURSDAY_9], dosing_team, coordinator)
    assert nothing_booked()
