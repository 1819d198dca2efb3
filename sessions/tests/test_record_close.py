"""Closing a session (deferral, discharge and its checklist), adverse events
and notes, and the end of the series that moves the course on to integrate."""

import uuid
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.journey import JourneyError, course_transition
from clinic.models import Appointment, Course, JourneyEvent, Stage
from sessions.models import AdverseEvent, Discharge, DosingSession, SessionNote
from sessions.services import record
from sessions.services.record import RecordError

from .record_factories import (
    CHECKLIST,
    dose,
    minutes_ago,
    ready_to_close,
    session_at,
    vitals,
)


def discharge(session, actor, **overrides):
    return record.session_discharge(session=session, actor=actor, **{**CHECKLIST, **overrides})


def appointment_status(session) -> str:
    return Appointment.objects.get(pk=session.appointment_id).status


# --- Discharge -----------------------------------------------------------------------------------


def test_a_session_closes_with_the_checklist_complete(
    dosing_session, therapist, medical_practitioner
):
    ready_to_close(dosing_session, therapist, medical_practitioner)
    closed = discharge(dosing_session, therapist, note="Left with her partner.")
    dosing_session.refresh_from_db()
    assert dosing_session.outcome == DosingSession.Outcome.DISCHARGED
    assert dosing_session.outcome_at == closed.discharge.at
    assert (closed.discharge.by, closed.discharge.note) == (therapist, "Left with her partner.")
    assert appointment_status(dosing_session) == Appointment.Status.HELD
    with pytest.raises(RecordError) as again:
        discharge(dosing_session, therapist)
    assert str(again.value) == "This session is already closed."
    assert Discharge.objects.count() == 1


@pytest.mark.parametrize("unticked", list(CHECKLIST))
def test_an_incomplete_checklist_leaves_the_session_open(
    dosing_session, therapist, medical_practitioner, unticked
):
    ready_to_close(dosing_session, therapist, medical_practitioner)
    with pytest.raises(RecordError) as refused:
        discharge(dosing_session, therapist, **{unticked: False})
    assert str(refused.value) == (
        "Tick every item of the discharge checklist: the session cannot be closed until each is "
        "done."
    )
    dosing_session.refresh_from_db()
    assert dosing_session.outcome == "" and not Discharge.objects.exists()
    assert appointment_status(dosing_session) == Appointment.Status.BOOKED


def test_the_database_refuses_an_incomplete_checklist_as_the_last_line(dosing_session, therapist):
    with pytest.raises(IntegrityError), transaction.atomic():
        Discharge.objects.create(
            session=dosing_session, by=therapist, **{**CHECKLIST, "escort_or_ride": False}
        )


def test_discharge_needs_the_dose_and_the_vitals_after_it(
    dosing_session, therapist, medical_practitioner
):
    vitals(dosing_session, therapist)
    with pytest.raises(RecordError) as no_dose:
        discharge(dosing_session, therapist)
    assert str(no_dose.value) == record.MSG_DISCHARGE_NEEDS_DOSE
    given = dose(dosing_session, medical_practitioner, minutes_back=10)
    vitals(dosing_session, therapist, "post_dose")  # ten minutes after: not the one due at 40
    with pytest.raises(RecordError) as early:
        discharge(dosing_session, therapist)
    due = timezone.localtime(
        given.given_at + timedelta(minutes=40), dosing_session.appointment.clinic.zone
    )
    assert str(early.value).startswith("Record the vitals due 40 minutes after the dose (from ")
    assert due.strftime("%-I:%M") in str(early.value)
    later = timezone.now() + timedelta(minutes=31)
    record.vitals_record(
        session=dosing_session,
        actor=therapist,
        moment="post_dose",
        systolic=130,
        diastolic=80,
        heart_rate=72,
        spo2=97,
        now=later,
    )
    with pytest.raises(RecordError) as no_discharge_vitals:
        discharge(dosing_session, therapist, now=later)
    assert str(no_discharge_vitals.value) == record.MSG_DISCHARGE_NEEDS_VITALS
    record.vitals_record(
        session=dosing_session,
        actor=therapist,
        moment="discharge",
        systolic=125,
        diastolic=80,
        heart_rate=70,
        spo2=98,
        now=later,
    )
    record.session_discharge(session=dosing_session, actor=therapist, now=later, **CHECKLIST)


def test_a_clinics_own_interval_after_the_dose(
    dosing_session, therapist, medical_practitioner, clinic_qc
):
    from sessions.models import DosingSettings

    DosingSettings.objects.create(clinic=clinic_qc, post_dose_vitals_minutes=60)
    vitals(dosing_session, therapist)
    dose(dosing_session, medical_practitioner, minutes_back=45)
    vitals(dosing_session, therapist, "post_dose")
    vitals(dosing_session, therapist, "discharge")
    with pytest.raises(RecordError, match="due 60 minutes after the dose"):
        discharge(dosing_session, therapist)


def test_the_same_discharge_sent_twice_closes_once(dosing_session, therapist, medical_practitioner):
    ready_to_close(dosing_session, therapist, medical_practitioner)
    token = uuid.uuid4()
    first = discharge(dosing_session, therapist, submission=token)
    second = discharge(dosing_session, therapist, submission=token)
    assert first.discharge.pk == second.discharge.pk and Discharge.objects.count() == 1


def test_after_the_session_closes_new_readings_are_refused_but_notes_events_and_corrections_are_not(
    dosing_session, therapist, medical_practitioner
):
    ready_to_close(dosing_session, therapist, medical_practitioner)
    discharge(dosing_session, therapist)
    with pytest.raises(RecordError) as closed:
        vitals(dosing_session, therapist, "discharge")
    assert str(closed.value) == record.MSG_SESSION_CLOSED
    note = record.note_record(session=dosing_session, actor=therapist, text="Written after.")
    record.note_record(
        session=dosing_session,
        actor=therapist,
        text="Written after, in full.",
        corrects=note,
        correction_reason="finished the sentence",
    )
    event = record.adverse_event_record(
        session=dosing_session,
        actor=therapist,
        kind="nausea",
        severity="mild",
        action_taken="Ginger tea; settled.",
    )
    record.adverse_event_record(
        session=dosing_session,
        actor=therapist,
        kind="nausea",
        severity="moderate",
        action_taken="Ginger tea; settled.",
        corrects=event,
        correction_reason="vomited once",
    )
    assert SessionNote.objects.count() == 2 and AdverseEvent.objects.count() == 2
    event.refresh_from_db()
    assert event.severity == "mild"


def test_an_adverse_event_says_what_was_done(dosing_session, therapist):
    with pytest.raises(RecordError) as refused:
        record.adverse_event_record(
            session=dosing_session,
            actor=therapist,
            kind="anxiety",
            severity="mild",
            action_taken="  ",
        )
    assert refused.value.field == "action_taken"
    with pytest.raises(RecordError):
        record.adverse_event_record(
            session=dosing_session,
            actor=therapist,
            kind="boredom",
            severity="mild",
            action_taken="x",
        )
    with pytest.raises(RecordError) as empty:
        record.note_record(session=dosing_session, actor=therapist, text="")
    assert empty.value.field == "text"
    assert not AdverseEvent.objects.exists() and not SessionNote.objects.exists()


# --- Deferral --------------------------------------------------------------------------------------


def test_a_clinician_defers_before_the_dose_with_a_reason(
    dosing_session, therapist, medical_practitioner
):
    with pytest.raises(RecordError, match="Give a reason"):
        record.session_defer(session=dosing_session, actor=therapist, reason=" ")
    record.session_defer(session=dosing_session, actor=therapist, reason="No escort today.")
    dosing_session.refresh_from_db()
    assert (dosing_session.outcome, dosing_session.deferral_reason, dosing_session.deferred_by) == (
        DosingSession.Outcome.DEFERRED,
        "No escort today.",
        therapist,
    )
    with pytest.raises(RecordError) as refused:
        vitals(dosing_session, therapist)
    assert str(refused.value) == record.MSG_SESSION_CLOSED
    with pytest.raises(RecordError) as no_dose:
        dose(dosing_session, medical_practitioner)
    assert str(no_dose.value) == record.MSG_DEFERRED
    with pytest.raises(RecordError) as no_discharge:
        discharge(dosing_session, therapist)
    assert str(no_discharge.value) == record.MSG_ALREADY_CLOSED


def test_no_deferral_once_the_dose_is_given(dosing_session, therapist, medical_practitioner):
    vitals(dosing_session, therapist)
    dose(dosing_session, medical_practitioner)
    with pytest.raises(RecordError) as refused:
        record.session_defer(session=dosing_session, actor=therapist, reason="changed our mind")
    assert str(refused.value) == record.MSG_DEFER_AFTER_DOSE


def test_the_database_keeps_a_deferral_with_who_and_why(dosing_session):
    with pytest.raises(IntegrityError), transaction.atomic():
        DosingSession.objects.filter(pk=dosing_session.pk).update(
            outcome="deferred", outcome_at=timezone.now()
        )


# --- The end of the series -----------------------------------------------------------------------


def test_the_last_discharge_of_the_series_moves_the_course_to_integrate(
    dosing_course, dose_plan, therapist, medical_practitioner
):
    first = session_at(
        dosing_course, therapist, medical_practitioner, start=minutes_ago(60 * 24 * 7), planned=2
    )
    second = session_at(dosing_course, therapist, medical_practitioner, start=minutes_ago(60))
    # The first session, a week ago, recorded at the time.
    from demo.dosing_record import held_session

    closed = held_session(session=first, therapist=therapist, practitioner=medical_practitioner)
    assert not closed.course_moved
    assert Course.objects.get(pk=dosing_course.pk).stage == Stage.DOSING

    ready_to_close(second, therapist, medical_practitioner)
    closed = discharge(second, therapist)
    assert closed.course_moved
    course = Course.objects.get(pk=dosing_course.pk)
    assert course.stage == Stage.INTEGRATE
    event = JourneyEvent.objects.get(course=course, to_stage=Stage.INTEGRATE)
    assert (event.from_stage, event.actor, event.reason) == (
        Stage.DOSING,
        therapist,
        "Dosing series completed",
    )


def test_the_course_does_not_move_while_the_series_is_incomplete(
    dosing_course, dose_plan, therapist, medical_practitioner
):
    session_at(dosing_course, therapist, medical_practitioner, start=minutes_ago(60), planned=2)
    with pytest.raises(JourneyError) as refused:
        course_transition(course=dosing_course, to_stage=Stage.INTEGRATE, actor=therapist)
    assert str(refused.value) == (
        "The dosing series must be complete (every planned session discharged) or ended early by "
        "a clinician."
    )


def test_a_clinician_ends_the_series_early_with_a_reason(
    dosing_course, dose_plan, therapist, medical_practitioner, coordinator
):
    past = session_at(
        dosing_course, therapist, medical_practitioner, start=minutes_ago(60 * 24 * 7), planned=4
    )
    ahead = session_at(
        dosing_course, therapist, medical_practitioner, start=timezone.now() + timedelta(days=7)
    )
    series = past.series
    with pytest.raises(RecordError) as not_allowed:
        record.series_end(series=series, actor=coordinator, reason="x")
    assert str(not_allowed.value) == record.MSG_CLINICIANS_ONLY
    with pytest.raises(RecordError, match="Give a reason"):
        record.series_end(series=series, actor=therapist, reason="")

    record.series_end(series=series, actor=therapist, reason="Remission after two sessions.")
    series.refresh_from_db()
    assert (series.ended_by, series.end_reason) == (therapist, "Remission after two sessions.")
    assert appointment_status(ahead) == Appointment.Status.CANCELLED  # the room and people freed
    assert appointment_status(past) == Appointment.Status.BOOKED
    course = Course.objects.get(pk=dosing_course.pk)
    assert course.stage == Stage.INTEGRATE
    assert JourneyEvent.objects.get(course=course, to_stage=Stage.INTEGRATE).reason == (
        "Dosing series ended early"
    )
    ended_at = series.ended_at
    with pytest.raises(RecordError):
        record.series_end(series=series, actor=therapist, reason="again")
    series.refresh_from_db()
    assert series.ended_at == ended_at  # recorded once


def test_a_series_is_not_ended_with_a_session_half_way(
    dosing_session, therapist, medical_practitioner
):
    vitals(dosing_session, therapist)
    dose(dosing_session, medical_practitioner)
    with pytest.raises(RecordError) as refused:
        record.series_end(series=dosing_session.series, actor=therapist, reason="stop")
    assert str(refused.value) == record.MSG_SESSION_IN_PROGRESS
    dosing_session.series.refresh_from_db()
    assert dosing_session.series.ended_at is None
