"""Only a medical practitioner of the clinic sets the dose plan, and every
change is kept; the medical assessment is marked held, then signed off, and
a cleared conclusion moves the course on to dosing when prepare's other
conditions hold."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic import journey
from clinic.models import Appointment, AppointmentKind, Course, JourneyEvent, Stage
from clinic.tests.factories import staff_create
from sessions.models import AssessmentSignOff, DosePlan
from sessions.selectors.record import dose_plan_in_force
from sessions.services import record
from sessions.services.record import RecordError

from .record_factories import (
    course_in,
    minutes_ago,
    plan_for,
    preparation_at,
    prepared_but_for_the_assessment,
)


def set_plan(course, actor, *, dose="60", route="nasal_spray", notes="", seen=None, **extra):
    return record.dose_plan_set(
        course=course,
        actor=actor,
        route=route,
        dose_mg=Decimal(dose),
        notes=notes,
        seen=seen,
        **extra,
    )


# --- Dose plans ----------------------------------------------------------------------------------


def test_only_a_practitioner_of_the_clinic_writes_a_dose_plan(
    dosing_course, therapist, coordinator, clinic_bc
):
    elsewhere = staff_create(role="medical_practitioner", clinics=[clinic_bc])
    for person in (therapist, coordinator, elsewhere):
        with pytest.raises(RecordError) as refused:
            set_plan(dosing_course, person)
        assert str(refused.value) == "Only a medical practitioner of the clinic can do this."
    assert not DosePlan.objects.exists()


def test_every_change_of_the_plan_is_kept(dosing_course, medical_practitioner):
    first = set_plan(dosing_course, medical_practitioner, dose="50", notes="Start low.")
    second = set_plan(dosing_course, medical_practitioner, dose="62.5", seen=first.pk)
    third = set_plan(
        dosing_course, medical_practitioner, dose="62.5", route="sublingual_tablet", seen=second.pk
    )
    assert (second.replaces, third.replaces) == (first, second)
    first.refresh_from_db()
    assert (first.dose_mg, first.notes) == (Decimal("50.00"), "Start low.")
    assert dose_plan_in_force(dosing_course) == third
    assert DosePlan.objects.count() == 3


def test_a_change_made_meanwhile_is_not_silently_replaced(dosing_course, medical_practitioner):
    first = set_plan(dosing_course, medical_practitioner, dose="50")
    set_plan(dosing_course, medical_practitioner, dose="55", seen=first.pk)
    with pytest.raises(RecordError) as stale:
        set_plan(dosing_course, medical_practitioner, dose="70", seen=first.pk)
    assert str(stale.value) == record.MSG_PLAN_CHANGED
    with pytest.raises(RecordError) as stale:
        set_plan(dosing_course, medical_practitioner, dose="70", seen=None)
    assert DosePlan.objects.count() == 2


def test_the_same_plan_again_changes_nothing(dosing_course, medical_practitioner):
    first = set_plan(dosing_course, medical_practitioner, dose="50")
    with pytest.raises(RecordError) as same:
        set_plan(dosing_course, medical_practitioner, dose="50.00", seen=first.pk)
    assert str(same.value) == record.MSG_PLAN_UNCHANGED


@pytest.mark.parametrize("bad", ["0", "-5", "0.001", "1000.01"])
def test_a_dose_plan_out_of_bounds_is_refused(dosing_course, medical_practitioner, bad):
    with pytest.raises(RecordError) as refused:
        set_plan(dosing_course, medical_practitioner, dose=bad)
    assert refused.value.field == "dose_mg"
    assert not DosePlan.objects.exists()


def test_a_dose_plan_belongs_to_prepare_and_dosing(client_a, medical_practitioner):
    course = client_a.courses.get()  # connect
    with pytest.raises(RecordError) as refused:
        set_plan(course, medical_practitioner)
    assert str(refused.value) == record.MSG_PLAN_STAGE
    set_plan(course_in(course, Stage.PREPARE), medical_practitioner)


def test_the_same_plan_form_sent_twice_writes_once(dosing_course, medical_practitioner):
    token = uuid.uuid4()
    first = set_plan(dosing_course, medical_practitioner, submission=token)
    again = set_plan(dosing_course, medical_practitioner, submission=token)
    assert first.pk == again.pk and DosePlan.objects.count() == 1


def test_the_database_keeps_one_line_of_plans_per_course(dosing_course, medical_practitioner):
    plan_for(dosing_course, medical_practitioner)
    with pytest.raises(IntegrityError), transaction.atomic():
        DosePlan.objects.create(
            course=dosing_course, route="nasal_spray", dose_mg=1, by=medical_practitioner
        )


# --- Assessment: held, then signed off -----------------------------------------------------------


@pytest.fixture
def prepare_course(client_a):
    """Everything but the assessment: the modules read, the consent signed."""
    course = prepared_but_for_the_assessment(course_in(client_a.courses.get(), Stage.PREPARE))
    assert course.stage == Stage.PREPARE
    return course


@pytest.fixture
def assessment(prepare_course, medical_practitioner):
    return preparation_at(prepare_course, medical_practitioner, start=minutes_ago(90))


def sign_off(assessment, actor, cleared=True, **extra):
    extra.setdefault("note", "History and blood pressure fine.")
    return record.assessment_sign_off(assessment=assessment, actor=actor, cleared=cleared, **extra)


def test_a_cleared_sign_off_moves_the_course_to_dosing(
    assessment, prepare_course, medical_practitioner, therapist
):
    with pytest.raises(RecordError) as not_held:
        sign_off(assessment, medical_practitioner)
    assert str(not_held.value) == "Mark the assessment as held before signing it off."
    record.preparation_mark(preparation=assessment, actor=therapist, status="held")

    signed = sign_off(assessment, medical_practitioner)
    assert signed.advance.moved
    course = Course.objects.get(pk=prepare_course.pk)
    assert course.stage == Stage.DOSING
    event = JourneyEvent.objects.get(course=course, to_stage=Stage.DOSING)
    assert (event.actor, event.reason) == (medical_practitioner, "Medical assessment signed off")


def test_the_course_waits_for_prepares_other_conditions(
    assessment, prepare_course, medical_practitioner
):
    def consent_missing(course):
        return ["The consent in force must be signed."]

    journey.register_guard(Stage.PREPARE, Stage.DOSING, consent_missing)
    try:
        record.preparation_mark(preparation=assessment, actor=medical_practitioner, status="held")
        signed = sign_off(assessment, medical_practitioner)
    finally:
        journey.unregister_guard(Stage.PREPARE, Stage.DOSING, consent_missing)
    assert not signed.advance.moved
    assert "The consent in force must be signed." in signed.advance.unmet[0]
    assert Course.objects.get(pk=prepare_course.pk).stage == Stage.PREPARE


def test_prepare_to_dosing_needs_a_cleared_assessment(prepare_course, therapist):
    with pytest.raises(journey.JourneyError) as refused:
        journey.course_transition(course=prepare_course, to_stage=Stage.DOSING, actor=therapist)
    assert str(refused.value) == (
        "No medical assessment has been held and signed off as cleared for dosing."
    )


def test_a_changed_conclusion_is_a_correction_with_a_reason(
    assessment, prepare_course, medical_practitioner
):
    record.preparation_mark(preparation=assessment, actor=medical_practitioner, status="held")
    first = sign_off(assessment, medical_practitioner, cleared=False, note="BP 150/95 today.")
    assert first.advance is None
    assert Course.objects.get(pk=prepare_course.pk).stage == Stage.PREPARE
    with pytest.raises(RecordError) as twice:
        sign_off(assessment, medical_practitioner)
    assert str(twice.value) == record.MSG_ALREADY_SIGNED
    with pytest.raises(RecordError) as no_reason:
        sign_off(assessment, medical_practitioner, corrects=first.sign_off)
    assert no_reason.value.field == "reason"

    second = sign_off(
        assessment,
        medical_practitioner,
        corrects=first.sign_off,
        reason="Home readings 125/80 over two weeks.",
    )
    assert second.sign_off.corrects == first.sign_off
    assert second.advance.moved
    first.sign_off.refresh_from_db()
    assert first.sign_off.cleared is False
    with pytest.raises(RecordError) as again:
        sign_off(assessment, medical_practitioner, corrects=first.sign_off, reason="x")
    assert str(again.value) == record.MSG_ALREADY_CORRECTED


def test_only_a_practitioner_signs_off_and_only_an_assessment(
    assessment, prepare_course, therapist, medical_practitioner
):
    record.preparation_mark(preparation=assessment, actor=therapist, status="held")
    with pytest.raises(RecordError) as refused:
        sign_off(assessment, therapist)
    assert str(refused.value) == record.MSG_PRACTITIONERS_ONLY
    preparatory = preparation_at(
        prepare_course,
        therapist,
        start=minutes_ago(240),
        kind=AppointmentKind.PREPARATORY_SESSION,
    )
    record.preparation_mark(preparation=preparatory, actor=therapist, status="held")
    with pytest.raises(RecordError) as not_assessment:
        sign_off(preparatory, medical_practitioner)
    assert str(not_assessment.value) == record.MSG_NOT_ASSESSMENT
    assert not AssessmentSignOff.objects.exists()


def test_the_database_keeps_one_line_of_conclusions(assessment, medical_practitioner):
    record.preparation_mark(preparation=assessment, actor=medical_practitioner, status="held")
    sign_off(assessment, medical_practitioner, cleared=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        AssessmentSignOff.objects.create(
            assessment=assessment, cleared=True, note="x", by=medical_practitioner
        )


def test_marking_an_assessment_or_preparatory_session(
    prepare_course, assessment, therapist, coordinator, medical_practitioner
):
    with pytest.raises(RecordError) as coordinator_refused:
        record.preparation_mark(preparation=assessment, actor=coordinator, status="held")
    assert str(coordinator_refused.value) == record.MSG_CLINICIANS_ONLY
    ahead = preparation_at(
        prepare_course,
        therapist,
        start=timezone.now() + timedelta(days=1),
        kind=AppointmentKind.PREPARATORY_SESSION,
    )
    with pytest.raises(RecordError, match="has not started yet"):
        record.preparation_mark(preparation=ahead, actor=therapist, status="held")

    record.preparation_mark(preparation=assessment, actor=therapist, status="no_show")
    record.preparation_mark(
        preparation=assessment, actor=therapist, status="held", was="no_show"
    )  # corrected: the client did come
    assert Appointment.objects.get(pk=assessment.appointment_id).status == "held"
    sign_off(assessment, medical_practitioner)
    with pytest.raises(RecordError) as took_place:
        record.preparation_mark(
            preparation=assessment, actor=therapist, status="no_show", was="held"
        )
    assert str(took_place.value) == record.MSG_SIGNED_OFF_TOOK_PLACE
    preparatory = preparation_at(
        prepare_course, therapist, start=minutes_ago(300), kind=AppointmentKind.PREPARATORY_SESSION
    )
    with pytest.raises(RecordError, match="changed in the meantime"):  # a stale page
        record.preparation_mark(
            preparation=preparatory, actor=therapist, status="held", was="no_show"
        )
