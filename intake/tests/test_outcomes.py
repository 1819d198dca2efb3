"""An intake call's outcome: recorded once, corrected only by a clinician
with a reason, every record kept; the journey never loses the held call
that let a course leave connect."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from clinic.journey import course_transition
from clinic.models import AccessLogEntry, Appointment, Course, JourneyEvent, Stage
from eligibility.tests.factories import eligible_decision
from intake import services
from intake.models import IntakeCallOutcome
from intake.tests.conftest import THURSDAY_10
from intake.tests.factories import book_call, held_intake_call

HELD_AT = THURSDAY_10 + timedelta(minutes=40)


@pytest.fixture
def call(intake_clinic, clock):
    call = book_call(intake_clinic, THURSDAY_10, concern="ptsd")
    clock.move_to(HELD_AT)
    return call


def record(call, actor, outcome="held", notes="Note A"):
    return services.intake_call_record_outcome(
        intake_call=call, outcome=outcome, notes=notes, actor=actor
    )


def correct(call, actor, seen, outcome="no_show", notes="Note B", reason="Wrong client file."):
    return services.intake_call_correct_outcome(
        intake_call=call,
        outcome=outcome,
        notes=notes,
        reason=reason,
        actor=actor,
        seen_outcome_id=seen.pk if seen is not None else None,
    )


def state(call):
    call.appointment.refresh_from_db()
    return call.appointment.status, [
        (o.outcome, o.notes, o.by, o.corrects_id, o.reason) for o in call.outcomes.all()
    ]


def stage_of(call):
    return Course.objects.get(pk=call.course_id).stage


# --- Recorded once -------------------------------------------------------------------------


def test_a_second_persons_outcome_over_the_first_is_refused_and_both_status_and_notes_stay(
    call, therapist, medical_practitioner, clock
):
    first = record(call, therapist, "held", "Note A")
    assert (first.by, first.at) == (therapist, HELD_AT)
    clock.move_to(HELD_AT + timedelta(hours=1))
    with pytest.raises(services.BookingError, match="already recorded"):
        record(call, medical_practitioner, "no_show", "Note B")
    assert state(call) == ("held", [("held", "Note A", therapist, None, "")])


def test_the_second_record_from_an_old_page_is_refused_on_the_page_too(
    staff_login, call, therapist, medical_practitioner
):
    """Two clinicians opened the call before either recorded it: the second
    form sent is refused (not read as a correction) and says why."""
    url = reverse("intake:staff_call", args=[call.uuid])
    md = staff_login(medical_practitioner)
    assert 'name="action" value="record"' in md.get(url).content.decode()
    record(call, therapist, "held", "Note A")
    page = md.post(url, {"action": "record", "outcome": "no_show", "notes": "Note B"})
    assert page.status_code == 200
    assert "already recorded" in page.content.decode()
    assert state(call) == ("held", [("held", "Note A", therapist, None, "")])


def test_only_a_clinician_of_the_clinic_records_or_corrects(
    call, therapist, coordinator, other_clinic_therapist
):
    for person in (coordinator, other_clinic_therapist):
        with pytest.raises(services.BookingError, match="Only a clinician"):
            record(call, person)
    first = record(call, therapist)
    for person in (coordinator, other_clinic_therapist):
        with pytest.raises(services.BookingError, match="Only a clinician"):
            correct(call, person, first)
    assert len(state(call)[1]) == 1


def test_a_cancelled_call_has_no_outcome_to_record(call, therapist):
    Appointment.objects.filter(pk=call.appointment_id).update(status="cancelled")
    call.appointment.refresh_from_db()
    with pytest.raises(services.BookingError, match="was cancelled"):
        record(call, therapist)
    assert not IntakeCallOutcome.objects.exists()


# --- Corrections -----------------------------------------------------------------------------


def test_a_correction_with_a_reason_is_kept_beside_the_original(
    call, therapist, medical_practitioner, clock
):
    first = record(call, therapist, "held", "Note A")
    clock.move_to(HELD_AT + timedelta(hours=2))
    fix = correct(call, medical_practitioner, first, "no_show", "Note B", "  Wrong client file. ")
    assert (fix.corrects, fix.at, fix.reason) == (
        first,
        HELD_AT + timedelta(hours=2),
        "Wrong client file.",
    )
    assert state(call) == (
        "no_show",
        [
            ("held", "Note A", therapist, None, ""),
            ("no_show", "Note B", medical_practitioner, first.pk, "Wrong client file."),
        ],
    )
    assert stage_of(call) == Stage.CONNECT


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_correction_needs_a_reason(call, therapist, reason):
    first = record(call, therapist)
    with pytest.raises(services.BookingError, match="say why"):
        correct(call, therapist, first, reason=reason)
    assert state(call) == ("held", [("held", "Note A", therapist, None, "")])


def test_a_correction_that_changes_nothing_is_refused(call, therapist):
    first = record(call, therapist, "held", "Note A")
    with pytest.raises(services.BookingError, match="changes nothing"):
        correct(call, therapist, first, "held", " Note A ")
    assert len(state(call)[1]) == 1


def test_nothing_to_correct_before_a_first_record(call, therapist):
    with pytest.raises(services.BookingError, match="No outcome is recorded"):
        correct(call, therapist, None)
    assert state(call) == ("booked", [])


def test_a_correction_of_a_record_someone_else_corrected_meanwhile_is_stale(
    call, therapist, medical_practitioner
):
    first = record(call, therapist, "held", "Note A")
    correct(call, medical_practitioner, first, "no_show", "Note B", "Did not answer.")
    # The therapist still has the first record in front of them.
    with pytest.raises(services.BookingError, match="changed the outcome of this call"):
        correct(call, therapist, first, "held", "Note C", "Typo.")
    status, rows = state(call)
    assert status == "no_show" and [r[1] for r in rows] == ["Note A", "Note B"]


def test_a_notes_only_correction_is_allowed_even_after_the_course_moved_on(
    call, therapist, medical_practitioner
):
    eligible_decision(Course.objects.get(pk=call.course_id), therapist)
    first = record(call, therapist, "held", "Note A")
    assert stage_of(call) == Stage.PREPARE  # the held call completed connect
    correct(call, medical_practitioner, first, "held", "Note A, and sleeps poorly.", "Added.")
    status, rows = state(call)
    assert status == "held" and rows[-1][:2] == ("held", "Note A, and sleeps poorly.")
    assert stage_of(call) == Stage.PREPARE


# --- The journey has no step back ------------------------------------------------------------


def move(course, *stages, actor):
    for stage in stages:
        reason = "" if stage in (Stage.PREPARE, Stage.DOSING) else "Test"
        course_transition(course=course, to_stage=stage, actor=actor, reason=reason)


@pytest.mark.parametrize(
    "after",
    [
        (),  # prepare, because of this call
        (Stage.ON_HOLD,),  # on hold from prepare
        (Stage.WITHDRAWN,),  # ended after prepare
        (Stage.ON_HOLD, Stage.WITHDRAWN),
    ],
)
def test_held_to_no_show_is_refused_once_the_course_left_connect_because_of_it(
    call, therapist, medical_practitioner, after
):
    course = Course.objects.get(pk=call.course_id)
    eligible_decision(course, therapist)
    first = record(call, therapist, "held", "Note A")
    course.refresh_from_db()
    move(course, *after, actor=therapist)
    stage = course.stage
    events = JourneyEvent.objects.count()
    with pytest.raises(services.BookingError) as refused:
        correct(call, medical_practitioner, first)
    assert "cannot become a no-show" in str(refused.value)
    assert "put the course on hold with a reason" in str(refused.value)
    assert state(call) == ("held", [("held", "Note A", therapist, None, "")])
    assert stage_of(call) == stage and JourneyEvent.objects.count() == events


def test_held_to_no_show_is_allowed_while_the_course_is_in_connect_or_on_hold_from_it(
    call, therapist
):
    first = record(call, therapist)
    course = Course.objects.get(pk=call.course_id)
    move(course, Stage.ON_HOLD, actor=therapist)
    correct(call, therapist, first)
    assert state(call)[0] == "no_show"
    assert stage_of(call) == Stage.ON_HOLD


def test_held_to_no_show_is_allowed_when_another_held_call_of_the_course_remains(
    call, therapist, medical_practitioner
):
    course = Course.objects.get(pk=call.course_id)
    held_intake_call(course, therapist, days_ago=30)  # an earlier call, held
    eligible_decision(course, therapist)
    first = record(call, therapist)
    correct(call, medical_practitioner, first)
    assert state(call)[0] == "no_show"
    assert stage_of(call) == Stage.PREPARE  # still justified by the other call


def test_no_show_corrected_to_held_moves_the_course_on_when_its_other_conditions_hold(
    call, therapist, medical_practitioner
):
    course = Course.objects.get(pk=call.course_id)
    first = record(call, therapist, "no_show", "No answer, twice.")
    eligible_decision(course, therapist)
    assert stage_of(call) == Stage.CONNECT  # no held call yet
    correct(call, medical_practitioner, first, "held", "We spoke after all.", "Called back late.")
    assert stage_of(call) == Stage.PREPARE
    event = JourneyEvent.objects.filter(course=course).latest("at", "pk")
    assert (event.from_stage, event.to_stage, event.actor, event.reason) == (
        Stage.CONNECT,
        Stage.PREPARE,
        medical_practitioner,
        "Intake call outcome corrected to held",
    )


def test_no_show_corrected_to_held_leaves_a_course_without_its_other_conditions_in_connect(
    call, therapist
):
    first = record(call, therapist, "no_show", "")
    correct(call, therapist, first, "held", "", "Wrong button.")
    assert state(call)[0] == "held" and stage_of(call) == Stage.CONNECT


# --- Never changed, never deleted ------------------------------------------------------------


def test_outcome_records_are_never_changed_or_deleted(call, therapist):
    first = record(call, therapist)
    first.notes = "Rewritten"
    with pytest.raises(ValidationError):
        first.save()
    with pytest.raises(ValidationError):
        first.delete()
    with pytest.raises(ValidationError):
        IntakeCallOutcome.objects.filter(pk=first.pk).update(notes="Rewritten")
    with pytest.raises(ValidationError):
        IntakeCallOutcome.objects.filter(pk=first.pk).delete()
    assert IntakeCallOutcome.objects.get().notes == "Note A"


def test_the_database_keeps_one_first_record_and_one_correction_per_record(call, therapist):
    first = record(call, therapist)
    with pytest.raises(IntegrityError), transaction.atomic():
        IntakeCallOutcome.objects.create(call=call, outcome="no_show", by=therapist)
    with pytest.raises(IntegrityError), transaction.atomic():
        IntakeCallOutcome.objects.create(call=call, outcome="no_show", corrects=first)  # no reason
    IntakeCallOutcome.objects.create(call=call, outcome="held", corrects=first, reason="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        IntakeCallOutcome.objects.create(call=call, outcome="held", corrects=first, reason="y")
    with pytest.raises(IntegrityError), transaction.atomic():
        # The call keeps its record: no deleting the call from under it.
        Course.objects.filter(pk=call.course_id).delete()


# --- The staff page ---------------------------------------------------------------------


def test_the_page_shows_the_current_outcome_and_the_history_and_corrects_it(
    staff_login, call, therapist, medical_practitioner
):
    first = record(call, therapist, "held", "Note A")
    url = reverse("intake:staff_call", args=[call.uuid])
    web = staff_login(medical_practitioner)
    page = web.get(url).content.decode()
    assert "Note A" in page and str(therapist) in page
    assert 'name="reason"' in page and f'name="seen_outcome" value="{first.pk}"' in page
    # No reason: the form says so and nothing is written.
    refused = web.post(
        url,
        {"action": "correct", "outcome": "no_show", "notes": "Note B", "seen_outcome": first.pk},
    )
    assert "Please say why you are correcting the outcome." in refused.content.decode()
    assert len(state(call)[1]) == 1
    response = web.post(
        url,
        {
            "action": "correct",
            "outcome": "no_show",
            "notes": "Note B",
            "reason": "Another client's file.",
            "seen_outcome": first.pk,
        },
    )
    assert response.status_code == 302 and response["Location"] == url
    page = web.get(url).content.decode()
    assert "The correction is recorded." in page
    history = page[page.index('data-testid="outcome-history"') :]
    for text in ("Note A", "Note B", "Another client&#x27;s file.", str(medical_practitioner)):
        assert text in history
    assert state(call)[0] == "no_show"
    # The same form sent again (double click, back button): stale, nothing added.
    again = web.post(
        url,
        {
            "action": "correct",
            "outcome": "held",
            "notes": "Note C",
            "reason": "Again.",
            "seen_outcome": first.pk,
        },
    )
    assert "changed the outcome of this call" in again.content.decode()
    assert len(state(call)[1]) == 2


def test_a_coordinator_sees_neither_the_notes_nor_the_history(
    staff_login, call, therapist, coordinator
):
    first = record(call, therapist, "held", "Private clinical note.")
    correct(call, therapist, first, "held", "Another private note.", "A private reason.")
    page = staff_login(coordinator).get(reverse("intake:staff_call", args=[call.uuid]))
    text = page.content.decode()
    for secret in ("Private clinical note.", "Another private note.", "A private reason."):
        assert secret not in text
    assert 'data-testid="outcome-history"' not in text
    assert AccessLogEntry.objects.filter(actor=coordinator, object_id=str(call.uuid)).count() == 1


def test_the_call_page_costs_the_same_queries_whatever_the_history(staff_login, call, therapist):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    web = staff_login(therapist)
    url = reverse("intake:staff_call", args=[call.uuid])
    current = record(call, therapist, "held", "0")
    web.get(url)
    counts = []
    for corrections in (1, 8):
        for n in range(corrections):
            current = correct(call, therapist, current, "held", f"{corrections}-{n}", "More.")
        with CaptureQueriesContext(connection) as queries:
            assert web.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_the_admin_shows_the_history_read_only(staff_login, call, therapist):
    first = record(call, therapist, "held", "Note A")
    correct(call, therapist, first, "no_show", "Note B", "Wrong file.")
    web = staff_login(therapist)
    page = web.get(reverse("admin:intake_intakecall_change", args=[call.pk])).content.decode()
    for text in ("Note A", "Note B", "Wrong file."):
        assert text in page
    assert 'name="outcomes-0-notes"' not in page and "outcomes-0-DELETE" not in page


# --- The client's copy of their data ----------------------------------------------------


def test_the_clients_export_has_the_outcome_and_each_correction_with_its_reason(call, therapist):
    from clinic.exports import client_export, readable

    first = record(call, therapist, "held", "Note A")
    correct(call, therapist, first, "no_show", "Note B", "Wrong file.")
    data = client_export(Course.objects.get(pk=call.course_id).client)
    (exported,) = data["intake_calls"]
    assert exported["status"] == "no_show"
    assert [(o["outcome"], o["notes"], o["correction_reason"]) for o in exported["outcomes"]] == [
        ("held", "Note A", None),
        ("no_show", "Note B", "Wrong file."),
    ]
    section = next(
        e
        for e in readable(data, zone=call.appointment.clinic.zone)
        if e.label == "Your intake calls"
    )
    text = repr(section)
    assert "Why it was corrected" in text and "no-show" in text
