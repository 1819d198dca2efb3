"""Who may make each stage change: every (from, to) pair, for every kind of
person, with and without a reason. Written out independently of the code:
clinical transitions belong to the clinic's clinicians; hold, resume and
withdraw may also be its coordinators', always with a reason; a client may
only withdraw from their own course; the privacy officer moves nothing."""

import pytest

from clinic.journey import JourneyError, course_transition
from clinic.models import Course, JourneyEvent, Stage

S = Stage
NEXT = {S.CONNECT: S.PREPARE, S.PREPARE: S.DOSING, S.DOSING: S.INTEGRATE, S.INTEGRATE: S.RECONNECT}
IN_PROGRESS = [S.CONNECT, S.PREPARE, S.DOSING, S.INTEGRATE]
# (from, to) -> "clinical" or "administrative"; an on-hold course is placed
# on hold from the dosing stage.
HELD_FROM = S.DOSING
KIND = {
    **{(f, t): "clinical" for f, t in NEXT.items()},
    (S.CONNECT, S.DECLINED): "clinical",
    **{(f, S.ON_HOLD): "administrative" for f in IN_PROGRESS},
    **{(f, S.WITHDRAWN): "administrative" for f in [*IN_PROGRESS, S.RECONNECT, S.ON_HOLD]},
    (S.ON_HOLD, HELD_FROM): "administrative",
}
REASON_NEEDED = {pair for pair, kind in KIND.items() if kind == "administrative"} | {
    (S.CONNECT, S.DECLINED)
}
WHO = {
    "therapist": {"clinical", "administrative"},
    "medical_practitioner": {"clinical", "administrative"},
    "coordinator": {"administrative"},
    "privacy_officer": set(),
    "other_clinic_therapist": set(),
    "client_b": set(),
}
ALL_PAIRS = [(f, t) for f in Stage for t in Stage if f != t]


def put_in_stage(course: Course, stage: str) -> Course:
    """Test set-up only: place a course in a stage without the service."""
    Course.objects.filter(pk=course.pk).update(
        stage=stage, stage_before_hold=HELD_FROM if stage == S.ON_HOLD else ""
    )
    return Course.objects.get(pk=course.pk)


def may(actor_name: str, from_stage, to_stage) -> bool:
    kind = KIND.get((from_stage, to_stage))
    if kind is None:
        return False
    if actor_name == "client_a":  # their own course
        return to_stage == S.WITHDRAWN
    return kind in WHO[actor_name]


@pytest.mark.parametrize("actor_name", [*WHO, "client_a"])
def test_each_stage_change_is_made_only_by_whom_the_rules_name(request, client_a, actor_name):
    actor = request.getfixturevalue(actor_name)
    actor = getattr(actor, "user", actor)
    course = client_a.courses.get()
    wrong = []
    for from_stage, to_stage in ALL_PAIRS:
        for reason in ("", "asked by the client"):
            course = put_in_stage(course, from_stage)
            events = JourneyEvent.objects.count()
            allowed = may(actor_name, from_stage, to_stage) and (
                reason or (from_stage, to_stage) not in REASON_NEEDED
            )
            try:
                course_transition(course=course, to_stage=to_stage, actor=actor, reason=reason)
            except JourneyError as refused:
                assert str(refused)
                moved = False
            else:
                moved = True
            stage = Course.objects.get(pk=course.pk).stage
            if moved != bool(allowed) or stage != (to_stage if allowed else from_stage):
                wrong.append((from_stage, to_stage, repr(reason), "moved" if moved else "refused"))
            if moved:
                event = JourneyEvent.objects.latest("pk")
                assert (event.actor, event.reason) == (actor, reason)
            else:
                assert JourneyEvent.objects.count() == events
    assert not wrong, wrong


def test_a_coordinator_cannot_move_a_course_from_dosing_to_integrate(client_a, coordinator):
    course = put_in_stage(client_a.courses.get(), S.DOSING)
    with pytest.raises(JourneyError, match="not allowed"):
        course_transition(course=course, to_stage=S.INTEGRATE, actor=coordinator, reason="done")
    assert Course.objects.get(pk=course.pk).stage == S.DOSING


def test_resuming_a_course_needs_a_reason(client_a, coordinator):
    course = put_in_stage(client_a.courses.get(), S.ON_HOLD)
    with pytest.raises(JourneyError, match="reason"):
        course_transition(course=course, to_stage=HELD_FROM, actor=coordinator, reason=" ")
    course_transition(course=course, to_stage=HELD_FROM, actor=coordinator, reason="back")
    assert course.stage == HELD_FROM
