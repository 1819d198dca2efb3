"""The session record before and at the dose: the blood-pressure rule at its
boundaries (the defaults and a clinic's own numbers), the practitioner's
confirmation, vitals out of physiological range, the dose and its refusals,
corrections that never overwrite, and a form sent twice."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.calendar import appointment_cancel
from clinic.models import Appointment
from clinic.records import MSG_APPEND_ONLY
from clinic.tests.factories import staff_create
from sessions.models import (
    Administration,
    DosingSession,
    DosingSettings,
    VitalsOverride,
    VitalsReading,
)
from sessions.selectors.record import (
    PRESSURE_CONFIRM,
    PRESSURE_DEFER,
    PRESSURE_OK,
    pressure_verdict,
)
from sessions.services import record
from sessions.services.record import RecordError

from .record_factories import (
    dose,
    minutes_ago,
    session_at,
    vitals,
)

DEFAULTS = DosingSettings()
OWN = DosingSettings(
    confirm_systolic=130, confirm_diastolic=85, defer_systolic=150, defer_diastolic=95
)


@pytest.mark.parametrize(
    ("settings", "systolic", "diastolic", "verdict"),
    [
        (DEFAULTS, 139, 89, PRESSURE_OK),
        (DEFAULTS, 140, 90, PRESSURE_OK),  # "above 140/90": 140/90 itself is not above
        (DEFAULTS, 141, 90, PRESSURE_CONFIRM),
        (DEFAULTS, 140, 91, PRESSURE_CONFIRM),
        (DEFAULTS, 159, 99, PRESSURE_CONFIRM),
        (DEFAULTS, 160, 99, PRESSURE_DEFER),  # "at or above 160/100", either number
        (DEFAULTS, 159, 100, PRESSURE_DEFER),
        (DEFAULTS, 160, 100, PRESSURE_DEFER),
        (DEFAULTS, 120, 100, PRESSURE_DEFER),
        (OWN, 130, 85, PRESSURE_OK),
        (OWN, 131, 85, PRESSURE_CONFIRM),
        (OWN, 139, 89, PRESSURE_CONFIRM),
        (OWN, 149, 94, PRESSURE_CONFIRM),
        (OWN, 150, 94, PRESSURE_DEFER),
        (OWN, 149, 95, PRESSURE_DEFER),
    ],
)
def test_the_blood_pressure_rule_at_its_boundaries(settings, systolic, diastolic, verdict):
    assert pressure_verdict(systolic, diastolic, settings) == verdict


# --- The rule through the services ------------------------------------------------------------


@pytest.mark.parametrize(("systolic", "diastolic"), [(139, 89), (140, 90)])
def test_at_or_below_the_confirmation_threshold_the_dose_is_given_without_one(
    dosing_session, therapist, medical_practitioner, systolic, diastolic
):
    vitals(dosing_session, therapist, systolic=systolic, diastolic=diastolic)
    given = dose(dosing_session, medical_practitioner)
    assert given.dose_mg == Decimal("50") and given.by == medical_practitioner


@pytest.mark.parametrize(("systolic", "diastolic"), [(141, 90), (140, 91), (159, 99)])
def test_above_the_confirmation_threshold_the_dose_waits_for_a_practitioner(
    dosing_session, therapist, medical_practitioner, systolic, diastolic
):
    reading = vitals(dosing_session, therapist, systolic=systolic, diastolic=diastolic)
    with pytest.raises(RecordError) as refused:
        dose(dosing_session, medical_practitioner)
    assert str(refused.value) == (
        "The blood pressure before the dose is above 140/90: a medical practitioner must "
        "confirm, with a reason, before the dose is given."
    )
    assert not Administration.objects.exists()

    override = record.vitals_confirm(
        session=dosing_session,
        reading=reading,
        reason="Anxious on arrival; baseline 150s.",
        actor=medical_practitioner,
    )
    assert (override.by, override.reading) == (medical_practitioner, reading)
    dose(dosing_session, medical_practitioner)
    assert Administration.objects.count() == 1


@pytest.mark.parametrize(("systolic", "diastolic"), [(160, 100), (160, 80), (120, 100)])
def test_at_or_above_the_deferral_threshold_the_session_is_deferred(
    dosing_session, therapist, medical_practitioner, systolic, diastolic
):
    vitals(dosing_session, therapist, systolic=systolic, diastolic=diastolic)
    dosing_session.refresh_from_db()
    assert dosing_session.outcome == DosingSession.Outcome.DEFERRED
    assert dosing_session.deferred_by == therapist
    assert dosing_session.deferral_reason == (
        f"Blood pressure {systolic}/{diastolic} before the dose: at or above 160/100."
    )
    assert (
        Appointment.objects.get(pk=dosing_session.appointment_id).status == Appointment.Status.HELD
    )
    with pytest.raises(RecordError) as refused:
        dose(dosing_session, medical_practitioner)
    assert str(refused.value) == "This session is deferred: the dose cannot be recorded as given."
    with pytest.raises(RecordError):
        record.session_defer(session=dosing_session, actor=therapist, reason="again")
    assert not Administration.objects.exists()


def test_a_clinics_own_thresholds_apply(dosing_session, therapist, medical_practitioner, clinic_qc):
    DosingSettings.objects.create(
        clinic=clinic_qc,
        confirm_systolic=130,
        confirm_diastolic=85,
        defer_systolic=150,
        defer_diastolic=95,
    )
    vitals(dosing_session, therapist, systolic=130, diastolic=85)
    vitals(dosing_session, therapist, systolic=135, diastolic=80)  # re-measured: above 130/85
    with pytest.raises(RecordError, match="above 130/85"):
        dose(dosing_session, medical_practitioner)
    vitals(dosing_session, therapist, systolic=150, diastolic=80)
    dosing_session.refresh_from_db()
    assert dosing_session.outcome == DosingSession.Outcome.DEFERRED
    assert "at or above 150/95" in dosing_session.deferral_reason


def test_the_latest_reading_before_the_dose_decides(
    dosing_session, therapist, medical_practitioner
):
    """Re-measured after a rest: the later reading is the one that counts."""
    vitals(dosing_session, therapist, systolic=150, diastolic=95)
    vitals(dosing_session, therapist, systolic=132, diastolic=84)
    dose(dosing_session, medical_practitioner)


def test_a_confirmation_holds_for_its_reading_only(dosing_session, therapist, medical_practitioner):
    first = vitals(dosing_session, therapist, systolic=150, diastolic=95)
    record.vitals_confirm(
        session=dosing_session, reading=first, reason="ok", actor=medical_practitioner
    )
    vitals(
        dosing_session, therapist, systolic=152, diastolic=96
    )  # a new reading: a new confirmation
    with pytest.raises(RecordError, match="must confirm"):
        dose(dosing_session, medical_practitioner)
    with pytest.raises(RecordError) as stale:
        record.vitals_confirm(
            session=dosing_session, reading=first, reason="x", actor=medical_practitioner
        )
    assert str(stale.value) == record.MSG_CONFIRM_NOT_CURRENT


def test_a_corrected_reading_needs_its_own_confirmation(
    dosing_session, therapist, medical_practitioner
):
    first = vitals(dosing_session, therapist, systolic=150, diastolic=95)
    record.vitals_confirm(
        session=dosing_session, reading=first, reason="ok", actor=medical_practitioner
    )
    record.vitals_record(
        session=dosing_session,
        actor=therapist,
        moment="pre_dose",
        systolic=155,
        diastolic=95,
        heart_rate=70,
        spo2=98,
        corrects=first,
        correction_reason="misread the cuff",
    )
    with pytest.raises(RecordError, match="must confirm"):
        dose(dosing_session, medical_practitioner)


def test_only_a_practitioner_of_the_clinic_confirms(
    dosing_session, therapist, clinic_bc, medical_practitioner
):
    reading = vitals(dosing_session, therapist, systolic=150, diastolic=95)
    elsewhere = staff_create(role="medical_practitioner", clinics=[clinic_bc])
    for person in (therapist, elsewhere):
        with pytest.raises(RecordError) as refused:
            record.vitals_confirm(
                session=dosing_session, reading=reading, reason="ok", actor=person
            )
        assert str(refused.value) == "Only a medical practitioner of the clinic can do this."
    assert not VitalsOverride.objects.exists()
    with pytest.raises(RecordError, match="Give a reason"):
        record.vitals_confirm(
            session=dosing_session, reading=reading, reason=" ", actor=medical_practitioner
        )


def test_a_reading_within_range_needs_no_confirmation(
    dosing_session, therapist, medical_practitioner
):
    reading = vitals(dosing_session, therapist)
    with pytest.raises(RecordError) as refused:
        record.vitals_confirm(
            session=dosing_session, reading=reading, reason="x", actor=medical_practitioner
        )
    assert str(refused.value) == record.MSG_NOTHING_TO_CONFIRM


# --- Vitals out of range ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"systolic": 900}, "systolic", "The systolic pressure (mmHg) must be between 50 and 260"),
        (
            {"heart_rate": -5},
            "heart_rate",
            "The heart rate (per minute) must be between 20 and 250",
        ),
        ({"spo2": 101}, "spo2", "The SpO₂ (%) must be between 50 and 100"),
        (
            {"diastolic": 20},
            "diastolic",
            "The diastolic pressure (mmHg) must be between 30 and 160",
        ),
        ({"systolic": 80, "diastolic": 90}, "diastolic", "The systolic pressure must be higher"),
    ],
)
def test_vitals_out_of_physiological_range_are_refused_and_nothing_is_saved(
    dosing_session, therapist, values, field, message
):
    with pytest.raises(RecordError) as refused:
        vitals(dosing_session, therapist, **values)
    assert refused.value.field == field
    assert str(refused.value).startswith(message)
    assert not VitalsReading.objects.exists()


def test_the_database_refuses_an_impossible_reading_as_the_last_line(dosing_session, therapist):
    with pytest.raises(IntegrityError), transaction.atomic():
        VitalsReading.objects.create(
            session=dosing_session,
            by=therapist,
            moment="pre_dose",
            systolic=900,
            diastolic=80,
            heart_rate=70,
            spo2=98,
        )


def test_readings_follow_the_order_of_the_session(dosing_session, therapist, medical_practitioner):
    with pytest.raises(RecordError) as early:
        vitals(dosing_session, therapist, "post_dose")
    assert str(early.value) == record.MSG_DOSE_FIRST
    vitals(dosing_session, therapist)
    dose(dosing_session, medical_practitioner)
    with pytest.raises(RecordError) as late:
        vitals(dosing_session, therapist, "pre_dose")
    assert str(late.value) == record.MSG_PRE_DOSE_AFTER_DOSE


# --- The dose ------------------------------------------------------------------------------------


def test_no_dose_before_the_vitals(dosing_session, medical_practitioner):
    with pytest.raises(RecordError) as refused:
        dose(dosing_session, medical_practitioner)
    assert str(refused.value) == "Record the vitals before the dose first."
    assert not Administration.objects.exists()


def test_no_dose_without_a_plan(dosing_course, client_b, therapist, medical_practitioner):
    from .record_factories import course_in

    course = course_in(client_b.courses.get(), "dosing")
    other = session_at(course, therapist, medical_practitioner, start=minutes_ago(60))
    vitals(other, therapist)
    with pytest.raises(RecordError) as refused:
        dose(other, medical_practitioner)
    assert str(refused.value) == (
        "This client has no dose plan: a medical practitioner must set one before the dose is "
        "given."
    )


def test_a_dose_that_differs_from_the_plan_needs_a_reason(
    dosing_session, therapist, medical_practitioner, dose_plan
):
    vitals(dosing_session, therapist)
    for change in ({"dose_mg": "60"}, {"route": "sublingual_tablet"}):
        with pytest.raises(RecordError) as refused:
            dose(dosing_session, medical_practitioner, **change)
        assert refused.value.field == "differs_reason"
        assert (
            str(refused.value) == "This differs from the dose plan (Nasal spray 50.00 mg): say why."
        )
    given = dose(
        dosing_session, medical_practitioner, dose_mg="40", differs_reason="Nausea last time."
    )
    assert (given.plan, given.differs_reason) == (dose_plan, "Nausea last time.")


def test_one_dose_per_session_a_change_is_a_correction(
    dosing_session, therapist, medical_practitioner
):
    vitals(dosing_session, therapist)
    first = dose(dosing_session, medical_practitioner)
    with pytest.raises(RecordError, match="recorded already"):
        dose(dosing_session, medical_practitioner)
    corrected = record.administration_record(
        session=dosing_session,
        actor=medical_practitioner,
        given_at=first.given_at,
        route=first.route,
        dose_mg=Decimal("45"),
        differs_reason="Half a spray missed.",
        corrects=first,
        correction_reason="Typed the plan, not what was given.",
    )
    assert corrected.corrects == first and corrected.plan == first.plan
    first.refresh_from_db()
    assert first.dose_mg == Decimal("50.00")  # the record itself never changes
    with pytest.raises(IntegrityError), transaction.atomic():
        Administration.objects.create(
            session=dosing_session,
            by=medical_practitioner,
            given_at=timezone.now(),
            route="nasal_spray",
            dose_mg=1,
            plan=first.plan,
        )


@pytest.mark.parametrize("bad", ["0", "-1", "1000.01", "12.345", "NaN"])
def test_a_dose_out_of_bounds_is_refused(dosing_session, therapist, medical_practitioner, bad):
    vitals(dosing_session, therapist)
    with pytest.raises(RecordError) as refused:
        dose(dosing_session, medical_practitioner, dose_mg=bad, differs_reason="x")
    assert refused.value.field == "dose_mg"
    assert str(refused.value) == "Enter a dose between 0.01 and 1000 mg, with at most two decimals."


@pytest.mark.parametrize("minutes_back", [-10, 95])
def test_the_time_given_is_during_the_session(
    dosing_session, therapist, medical_practitioner, minutes_back
):
    vitals(dosing_session, therapist)
    with pytest.raises(RecordError) as refused:
        dose(dosing_session, medical_practitioner, minutes_back=minutes_back)
    assert refused.value.field == "given_at"


def test_nothing_is_recorded_before_the_session_begins_or_in_a_cancelled_one(
    dosing_course, dose_plan, therapist, medical_practitioner, coordinator
):
    ahead = session_at(
        dosing_course, therapist, medical_practitioner, start=timezone.now() + timedelta(hours=2)
    )
    with pytest.raises(RecordError) as early:
        vitals(ahead, therapist)
    assert str(early.value) == record.MSG_NOT_STARTED
    appointment_cancel(appointment=ahead.appointment)
    with pytest.raises(RecordError) as cancelled:
        vitals(ahead, therapist)
    assert str(cancelled.value) == record.MSG_NOT_ON
    assert not VitalsReading.objects.exists()


def test_coordinators_and_other_clinics_record_nothing(
    dosing_session, coordinator, other_clinic_therapist
):
    for person in (coordinator, other_clinic_therapist):
        with pytest.raises(RecordError) as refused:
            vitals(dosing_session, person)
        assert str(refused.value) == record.MSG_CLINICIANS_ONLY
    assert not VitalsReading.objects.exists()


# --- Corrections and double submits ------------------------------------------------------------


def test_a_correction_points_to_what_it_corrects_and_keeps_it(dosing_session, therapist):
    first = vitals(dosing_session, therapist, systolic=128)
    with pytest.raises(RecordError) as no_reason:
        record.vitals_record(
            session=dosing_session,
            actor=therapist,
            moment="pre_dose",
            systolic=118,
            diastolic=78,
            heart_rate=70,
            spo2=98,
            corrects=first,
        )
    assert no_reason.value.field == "correction_reason"
    fixed = record.vitals_record(
        session=dosing_session,
        actor=therapist,
        moment="post_dose",
        systolic=118,
        diastolic=78,
        heart_rate=70,
        spo2=98,
        corrects=first,
        correction_reason="typo",
    )
    assert (fixed.corrects, fixed.moment, fixed.correction_reason) == (first, "pre_dose", "typo")
    first.refresh_from_db()
    assert first.systolic == 128
    with pytest.raises(RecordError) as twice:
        record.vitals_record(
            session=dosing_session,
            actor=therapist,
            moment="pre_dose",
            systolic=119,
            diastolic=78,
            heart_rate=70,
            spo2=98,
            corrects=first,
            correction_reason="again",
        )
    assert str(twice.value) == record.MSG_ALREADY_CORRECTED
    record.vitals_record(
        session=dosing_session,
        actor=therapist,
        moment="pre_dose",
        systolic=119,
        diastolic=78,
        heart_rate=70,
        spo2=98,
        corrects=fixed,
        correction_reason="and again",
    )
    with pytest.raises(Exception, match=str(MSG_APPEND_ONLY)):
        first.systolic = 100
        first.save()
    with pytest.raises(Exception, match=str(MSG_APPEND_ONLY)):
        first.delete()


def test_a_corrected_reading_over_the_deferral_threshold_defers(
    dosing_session, therapist, medical_practitioner
):
    first = vitals(dosing_session, therapist)
    record.vitals_record(
        session=dosing_session,
        actor=therapist,
        moment="pre_dose",
        systolic=165,
        diastolic=95,
        heart_rate=70,
        spo2=98,
        corrects=first,
        correction_reason="read the wrong arm",
    )
    dosing_session.refresh_from_db()
    assert dosing_session.outcome == DosingSession.Outcome.DEFERRED


def test_the_same_form_sent_twice_records_once(dosing_session, therapist, medical_practitioner):
    token = uuid.uuid4()
    first = vitals(dosing_session, therapist, submission=token)
    again = vitals(dosing_session, therapist, submission=token)
    assert first.pk == again.pk and VitalsReading.objects.count() == 1
    token = uuid.uuid4()
    given = dose(dosing_session, medical_practitioner, submission=token)
    assert dose(dosing_session, medical_practitioner, submission=token).pk == given.pk
    token = uuid.uuid4()
    note = record.note_record(
        session=dosing_session, actor=therapist, text="Calm.", submission=token
    )
    assert (
        record.note_record(
            session=dosing_session, actor=therapist, text="Calm.", submission=token
        ).pk
        == note.pk
    )
