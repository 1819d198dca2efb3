"""Every stage transition, allowed and refused, from the service (the shell's
entry point), the staff page and the admin."""

import contextlib
import threading

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import translation

from clinic import journey
from clinic.journey import JourneyError, course_transition
from clinic.models import Course, JourneyEvent, Stage

S = Stage
# The journey as DESIGN.md draws it, written out independently of the code.
EXPECTED = {
    S.CONNECT: {S.PREPARE, S.DECLINED, S.WITHDRAWN, S.ON_HOLD},
    S.PREPARE: {S.DOSING, S.WITHDRAWN, S.ON_HOLD},
    S.DOSING: {S.INTEGRATE, S.WITHDRAWN, S.ON_HOLD},
    S.INTEGRATE: {S.RECONNECT, S.WITHDRAWN, S.ON_HOLD},
    S.RECONNECT: {S.WITHDRAWN},
    S.DECLINED: set(),
    S.WITHDRAWN: set(),
}
ALL_PAIRS = [(f, t) for f in EXPECTED for t in Stage if t != f]


def put_in_stage(course: Course, stage: str, before_hold: str = "") -> Course:
    """Test set-up only: place a course in a stage without the service."""
    Course.objects.filter(pk=course.pk).update(stage=stage, stage_before_hold=before_hold)
    return Course.objects.get(pk=course.pk)


@pytest.mark.parametrize(("from_stage", "to_stage"), ALL_PAIRS)
def test_each_transition_is_allowed_or_refused_as_the_journey_says(
    client_a, therapist, from_stage, to_stage
):
    course = put_in_stage(client_a.courses.get(), from_stage)
    events_before = JourneyEvent.objects.count()
    if to_stage in EXPECTED[from_stage]:
        course_transition(
            course=course, to_stage=to_stage, actor=therapist, reason="clinical decision"
        )
        course.refresh_from_db()
        assert course.stage == to_stage
        event = JourneyEvent.objects.latest("pk")
        assert (event.from_stage, event.to_stage, event.actor, event.reason) == (
            from_stage,
            to_stage,
            therapist,
            "clinical decision",
        )
    else:
        with pytest.raises(JourneyError) as refused:
            course_transition(
                course=course, to_stage=to_stage, actor=therapist, reason="clinical decision"
            )
        assert str(refused.value)  # a sentence, not an empty error
        course.refresh_from_db()
        assert course.stage == from_stage
        assert JourneyEvent.objects.count() == events_before


@pytest.mark.parametrize("held", [S.CONNECT, S.PREPARE, S.DOSING, S.INTEGRATE])
def test_a_course_on_hold_resumes_only_where_it_paused(client_a, therapist, held):
    course = put_in_stage(client_a.courses.get(), held)
    course_transition(course=course, to_stage=S.ON_HOLD, actor=therapist, reason="travelling")
    assert course.stage == S.ON_HOLD and course.stage_before_hold == held
    for other in set(JOURNEY := [S.CONNECT, S.PREPARE, S.DOSING, S.INTEGRATE, S.RECONNECT]) - {
        held
    }:
        with pytest.raises(JourneyError):
            course_transition(course=course, to_stage=other, actor=therapist, reason="x")
    course_transition(course=course, to_stage=held, actor=therapist, reason="back")
    assert course.stage == held and course.stage_before_hold == ""
    assert JOURNEY


def test_a_course_on_hold_can_be_withdrawn(client_a, coordinator):
    course = client_a.courses.get()
    course_transition(
        course=course, to_stage=S.ON_HOLD, actor=coordinator, reason="asked for a pause"
    )
    course_transition(course=course, to_stage=S.WITHDRAWN, actor=coordinator, reason="moved away")
    assert course.stage == S.WITHDRAWN


@pytest.mark.parametrize("to_stage", [S.DECLINED, S.WITHDRAWN, S.ON_HOLD])
def test_ending_or_pausing_a_course_needs_a_reason(client_a, therapist, to_stage):
    course = client_a.courses.get()
    with pytest.raises(JourneyError, match="reason"):
        course_transition(course=course, to_stage=to_stage, actor=therapist, reason="  ")
    assert Course.objects.get(pk=course.pk).stage == S.CONNECT


@pytest.mark.parametrize(
    "role_fixture", ["coordinator", "privacy_officer", "other_clinic_therapist", "client_b"]
)
def test_only_a_clinician_of_the_clinic_moves_a_course_forward(request, client_a, role_fixture):
    actor = request.getfixturevalue(role_fixture)
    actor = getattr(actor, "user", actor)
    course = client_a.courses.get()
    with pytest.raises(JourneyError, match="not allowed"):
        course_transition(course=course, to_stage=S.PREPARE, actor=actor)
    assert Course.objects.get(pk=course.pk).stage == S.CONNECT


def test_the_medical_practitioner_moves_a_course_forward(client_a, medical_practitioner):
    course = client_a.courses.get()
    course_transition(course=course, to_stage=S.PREPARE, actor=medical_practitioner)
    assert course.stage == S.PREPARE


def test_a_client_may_withdraw_from_their_own_course_only(client_a, client_b):
    with pytest.raises(JourneyError, match="not allowed"):
        course_transition(
            course=client_a.courses.get(), to_stage=S.WITHDRAWN, actor=client_b.user, reason="x"
        )
    course = client_a.courses.get()
    with pytest.raises(JourneyError, match="not allowed"):
        course_transition(course=course, to_stage=S.PREPARE, actor=client_a.user)
    course_transition(
        course=course, to_stage=S.WITHDRAWN, actor=client_a.user, reason="not for me now"
    )
    assert course.stage == S.WITHDRAWN


def test_a_stage_app_guard_holds_a_transition_until_its_condition_is_met(client_a, therapist):
    conditions = {"met": False}

    def eligibility_decided(course):
        return (
            [] if conditions["met"] else ["An eligible decision on a current screening is needed."]
        )

    journey.register_guard(S.CONNECT, S.PREPARE, eligibility_decided)
    try:
        course = client_a.courses.get()
        with pytest.raises(JourneyError, match="eligible decision"):
            course_transition(course=course, to_stage=S.PREPARE, actor=therapist)
        assert Course.objects.get(pk=course.pk).stage == S.CONNECT
        conditions["met"] = True
        course_transition(course=course, to_stage=S.PREPARE, actor=therapist)
        assert course.stage == S.PREPARE
    finally:
        journey.unregister_guard(S.CONNECT, S.PREPARE, eligibility_decided)


def test_a_stale_view_of_the_course_cannot_apply_a_transition(client_a, therapist):
    stale = client_a.courses.get()
    fresh = Course.objects.get(pk=stale.pk)
    course_transition(course=fresh, to_stage=S.ON_HOLD, actor=therapist, reason="paused")
    with pytest.raises(JourneyError, match="changed while you were looking"):
        course_transition(course=stale, to_stage=S.PREPARE, actor=therapist)
    assert Course.objects.get(pk=stale.pk).stage == S.ON_HOLD


def test_a_plain_save_cannot_move_the_stage(client_a):
    course = client_a.courses.get()
    course.stage = S.DOSING
    with pytest.raises(ValidationError, match="journey transition"):
        course.save()
    assert Course.objects.get(pk=course.pk).stage == S.CONNECT


def test_a_client_has_one_course_in_progress_at_a_time(client_a):
    with pytest.raises(JourneyError, match="already has a course"):
        journey.course_open(client=client_a, actor=None)
    assert client_a.courses.count() == 1


def test_a_new_course_can_open_once_the_last_one_ended(client_a, therapist):
    course_transition(
        course=client_a.courses.get(), to_stage=S.DECLINED, actor=therapist, reason="not eligible"
    )
    journey.course_open(client=client_a, actor=therapist)
    assert list(client_a.courses.values_list("stage", flat=True).order_by("pk")) == [
        S.DECLINED,
        S.CONNECT,
    ]


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_transitions_of_one_course_cannot_both_apply(
    client_a, therapist, coordinator
):
    """Two staff members act on the same course at the same moment: one
    forward, one on hold. Exactly one wins; the other gets a clear refusal."""
    assert connection.vendor == "postgresql"
    course_id = client_a.courses.get().pk
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def act(name, to_stage, actor):
        translation.activate("en")  # a new thread starts in the site's default, French
        try:
            course = Course.objects.get(pk=course_id)
            barrier.wait(timeout=10)
            course_transition(course=course, to_stage=to_stage, actor=actor, reason="at once")
            outcomes[name] = "applied"
        except JourneyError as exc:
            outcomes[name] = str(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=act, args=("forward", S.PREPARE, therapist)),
        threading.Thread(target=act, args=("hold", S.ON_HOLD, coordinator)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes.values()).count("applied") == 1, outcomes
    refused = next(v for v in outcomes.values() if v != "applied")
    assert "changed while you were looking" in refused
    course = Course.objects.get(pk=course_id)
    events = JourneyEvent.objects.filter(course=course).exclude(from_stage="")
    assert events.count() == 1
    assert events.get().to_stage == course.stage


# Each protection on its own, and the race they stop (pretix's concurrency tests
# do the same): the row lock and the conditional update each keep one
# transition when the other is taken away, and with both taken away the same
# race moves the course twice, so the tests can tell.


def _race(monkeypatch, *, lock: bool, conditional_update: bool) -> dict[str, str]:
    from clinic import journey

    both_read = threading.Barrier(2)
    if not lock:

        def read_without_lock(course_pk):
            course = Course.objects.select_related("client").get(pk=course_pk)
            # Both transitions read before either writes (a lock would make
            # the second wait here instead, so the wait is short).
            with contextlib.suppress(threading.BrokenBarrierError):
                both_read.wait(timeout=2)
            return course

        monkeypatch.setattr(journey, "_locked", read_without_lock)
    if not conditional_update:

        def write_whatever_the_stage(current, changes):
            Course.objects.filter(pk=current.pk).update(**changes)
            return True

        monkeypatch.setattr(journey, "_apply", write_whatever_the_stage)
    return _two_staff_at_once()


def _two_staff_at_once() -> dict[str, str]:
    course_id = Course.objects.get().pk
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def act(name, to_stage, actor):
        translation.activate("en")
        try:
            course = Course.objects.get(pk=course_id)
            start.wait(timeout=10)
            course_transition(course=course, to_stage=to_stage, actor=actor, reason="at once")
            outcomes[name] = "applied"
        except JourneyError as exc:
            outcomes[name] = str(exc)
        finally:
            connection.close()

    from clinic.models import User

    therapist = User.objects.get(email="therapist@example.com")
    coordinator = User.objects.get(email="coordinator@example.com")
    threads = [
        threading.Thread(target=act, args=("forward", S.PREPARE, therapist)),
        threading.Thread(target=act, args=("hold", S.ON_HOLD, coordinator)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_the_row_lock_alone_keeps_one_transition(monkeypatch, client_a, therapist, coordinator):
    outcomes = _race(monkeypatch, lock=True, conditional_update=False)
    assert list(outcomes.values()).count("applied") == 1, outcomes
    assert JourneyEvent.objects.exclude(from_stage="").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_conditional_update_alone_keeps_one_transition(
    monkeypatch, client_a, therapist, coordinator
):
    outcomes = _race(monkeypatch, lock=False, conditional_update=True)
    assert list(outcomes.values()).count("applied") == 1, outcomes
    assert JourneyEvent.objects.exclude(from_stage="").count() == 1


@pytest.mark.django_db(transaction=True)
def test_control_without_either_protection_the_course_moves_twice(
    monkeypatch, client_a, therapist, coordinator
):
    outcomes = _race(monkeypatch, lock=False, conditional_update=False)
    assert list(outcomes.values()) == ["applied", "applied"], outcomes
    assert JourneyEvent.objects.exclude(from_stage="").count() == 2


# --- The staff page and the admin go through the same rules ----------------------


def test_staff_page_moves_a_course_and_logs_the_read(staff_login, client_a, therapist):
    course = client_a.courses.get()
    web = staff_login(therapist)
    url = reverse("staff:course", args=[course.uuid])
    response = web.post(url, {"to_stage": S.PREPARE, "reason": ""})
    assert response.status_code == 302
    assert Course.objects.get(pk=course.pk).stage == S.PREPARE


def test_staff_page_refuses_an_illegal_transition_with_a_clear_message(
    staff_login, client_a, therapist
):
    course = client_a.courses.get()
    web = staff_login(therapist)
    response = web.post(
        reverse("staff:course", args=[course.uuid]), {"to_stage": S.DOSING, "reason": ""}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    response = web.post(
        reverse("staff:course", args=[course.uuid]), {"to_stage": S.DECLINED, "reason": ""}
    )
    assert "Please give a reason" in response.content.decode()
    assert Course.objects.get(pk=course.pk).stage == S.CONNECT


def test_a_coordinator_sees_why_they_cannot_move_a_course_forward(
    staff_login, client_a, coordinator
):
    course = client_a.courses.get()
    web = staff_login(coordinator)
    response = web.post(
        reverse("staff:course", args=[course.uuid]), {"to_stage": S.PREPARE, "reason": ""}
    )
    assert "not allowed to make this change" in response.content.decode()
    assert Course.objects.get(pk=course.pk).stage == S.CONNECT


def test_another_clinics_staff_get_404_for_a_course(staff_login, client_a, other_clinic_therapist):
    web = staff_login(other_clinic_therapist)
    response = web.get(reverse("staff:course", args=[client_a.courses.get().uuid]))
    assert response.status_code == 404


@pytest.fixture
def admin_user(clinic_qc):
    from clinic.tests.factories import UserFactory

    return UserFactory(email="admin@example.com", is_staff=True, is_superuser=True)


def test_the_admin_shows_the_stage_read_only_and_refuses_illegal_moves(
    staff_login, client_a, admin_user
):
    course = client_a.courses.get()
    web = staff_login(admin_user)
    change = web.get(reverse("admin:clinic_course_change", args=[course.pk]))
    assert change.status_code == 200
    assert 'name="stage"' not in change.content.decode()
    url = reverse("admin:clinic_course_transition", args=[course.pk])
    response = web.post(url, {"to_stage": S.DECLINED, "reason": ""})
    assert "Please give a reason" in response.content.decode()
    response = web.post(url, {"to_stage": S.DOSING, "reason": ""})
    assert "Select a valid choice" in response.content.decode()
    # A superuser without a clinical role makes no clinical decision.
    response = web.post(url, {"to_stage": S.PREPARE, "reason": "eligible"})
    assert "not allowed to make this change" in response.content.decode()
    assert Course.objects.get(pk=course.pk).stage == S.CONNECT


def test_a_clinician_moves_a_course_in_the_admin(staff_login, client_a, therapist):
    therapist.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_course", "change_course"])
    )
    course = client_a.courses.get()
    web = staff_login(therapist)
    url = reverse("admin:clinic_course_transition", args=[course.pk])
    response = web.post(url, {"to_stage": S.PREPARE, "reason": "eligible"})
    assert response.status_code == 302
    assert Course.objects.get(pk=course.pk).stage == S.PREPARE


def test_the_admin_shows_a_clinician_only_their_clinics_courses_and_logs_each_read(
    staff_login, client_a, clinic_bc, other_clinic_therapist
):
    """A Vancouver therapist with the admin rights on courses: Montreal's
    course is neither listed nor served (404), its stage page neither."""
    from clinic.models import AccessLogEntry
    from clinic.tests.factories import client_create

    other_clinic_therapist.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_course", "change_course"])
    )
    theirs = client_create(clinic=clinic_bc).courses.get()
    montreal = client_a.courses.get()
    web = staff_login(other_clinic_therapist)
    listed = web.get(reverse("admin:clinic_course_changelist")).context["cl"].result_list
    assert list(listed) == [theirs]
    assert web.get(reverse("admin:clinic_course_change", args=[montreal.pk])).status_code in (
        302,
        404,
    )
    assert web.get(reverse("admin:clinic_course_transition", args=[montreal.pk])).status_code == 404
    page = web.get(reverse("admin:clinic_course_transition", args=[theirs.pk]))
    assert page.status_code == 200 and 'name="from_stage"' in page.content.decode()
    assert not AccessLogEntry.objects.filter(client=client_a.pk).exists()
    assert AccessLogEntry.objects.filter(
        client=theirs.client, actor=other_clinic_therapist, path__contains="transition"
    ).exists()
