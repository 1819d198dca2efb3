"""Two clinicians correct an intake call's outcome at the same moment, on
PostgreSQL with real threads and connections: one correction wins, the other
is told it is stale, and the history stays one chain.

Each attempt is held just before its first write (the appointment's mark)
until the other one has either caught up with it (no lock: both read the
same state) or is seen waiting on a row lock in PostgreSQL, so the race is
the same on every run rather than left to the scheduler.

The controls show what each layer does: without the lock, the mark's
`was=` check still refuses the second correction of an outcome; without the
lock and that check, the one-correction-per-record constraint does; without
all three, both corrections stand and the history forks. Two held calls of
one course in prepare, both corrected to no-show at once, are kept apart by
the lock alone: without it the course is left in prepare with no held call."""

import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.utils import translation

from clinic import calendar
from clinic.models import Appointment, Course, Stage
from eligibility.tests.factories import eligible_decision
from intake import services
from intake.models import IntakeCallOutcome
from intake.tests.factories import book_call, held_intake_call, rules, weekly_availability

pytestmark = pytest.mark.django_db(transaction=True)

MTL = ZoneInfo("America/Toronto")
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=MTL)
CALL = datetime(2026, 6, 4, 10, 0, tzinfo=MTL)
LATER = CALL + timedelta(hours=2)
STALE = "Someone else changed the outcome of this call"
NO_STEP_BACK = "cannot become a no-show"


@pytest.fixture
def clinic(clinic_qc, therapist, medical_practitioner):
    rules(clinic_qc)
    for person in (therapist, medical_practitioner):
        weekly_availability(clinic_qc, person, days=range(5))
    return clinic_qc


def book(clinic, start, email="alex@example.com", user=None):
    with time_machine.travel(NOW, tick=False):
        return book_call(clinic, start, email=email, user=user)


def locks_waited_on() -> int:
    """Sessions of this test database waiting on a lock (a fresh snapshot:
    the main thread's connection is in autocommit)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def together(monkeypatch, first, second) -> list[str]:
    """Run `first` in a thread up to its first write, then `second` in
    another; let `first` go on once `second` has finished (nothing stopped
    it: both read the same state) or waits on a lock. Returns what each
    said ("ok" or the refusal), in that order."""
    assert connection.vendor == "postgresql"
    reached_write = threading.Event()
    release_first = threading.Event()
    real_mark = calendar.appointment_mark
    results: dict[str, str] = {}

    def mark(**kwargs):
        if threading.current_thread().name == "first":
            reached_write.set()
            assert release_first.wait(timeout=30), "the second attempt never caught up"
        return real_mark(**kwargs)

    monkeypatch.setattr(calendar, "appointment_mark", mark)

    def attempt(name, action):
        translation.activate("en")  # a new thread starts in the site's default, French
        try:
            action()
            results[name] = "ok"
        except services.BookingError as exc:
            results[name] = str(exc)
        except Exception as exc:  # noqa: BLE001  (a crash is what the test looks for)
            results[name] = f"crashed: {exc!r}"
        finally:
            connection.close()

    threads = {
        name: threading.Thread(target=attempt, args=(name, action), name=name)
        for name, action in (("first", first), ("second", second))
    }
    # time-machine patches the clock for the whole process, threads included.
    with time_machine.travel(LATER, tick=False):
        threads["first"].start()
        assert reached_write.wait(timeout=30)
        threads["second"].start()
        for _poll in range(6000):  # 30 seconds at most
            if not threads["second"].is_alive() or locks_waited_on():
                break
            time.sleep(0.005)
        else:
            pytest.fail("the second attempt neither ran nor waited on a lock")
        release_first.set()
        for thread in threads.values():
            thread.join(timeout=60)
    return [results.get("first"), results.get("second")]


def corrector(call, actor, seen, outcome, notes):
    def run():
        services.intake_call_correct_outcome(
            intake_call=call,
            outcome=outcome,
            notes=notes,
            reason=f"{actor}'s correction",
            actor=actor,
            seen_outcome_id=seen.pk,
        )

    return run


def recorded_call(clinic, therapist):
    call = book(clinic, CALL)
    with time_machine.travel(CALL + timedelta(minutes=40), tick=False):
        first = services.intake_call_record_outcome(
            intake_call=call, outcome="held", notes="Note A", actor=therapist
        )
    return call, first


def chain(call):
    call.appointment.refresh_from_db()
    rows = list(IntakeCallOutcome.objects.filter(call=call).order_by("pk"))
    return call.appointment.status, rows


# The same outcome corrected twice at once: to a no-show by both, or only the notes.
SAME_CALL = [("no_show", "no_show"), ("held", "held")]


@pytest.mark.parametrize(("outcome_1", "outcome_2"), SAME_CALL)
def test_two_clinicians_correct_one_call_at_once_one_wins_the_other_is_stale(
    monkeypatch, clinic, therapist, medical_practitioner, outcome_1, outcome_2
):
    call, first = recorded_call(clinic, therapist)
    said = together(
        monkeypatch,
        corrector(call, therapist, first, outcome_1, "Note B"),
        corrector(call, medical_practitioner, first, outcome_2, "Note C"),
    )
    # The second waited on the call's lock, then read the first's correction.
    assert said[0] == "ok" and STALE in said[1], said
    status, rows = chain(call)
    assert len(rows) == 2 and rows[1].corrects_id == first.pk
    assert status == rows[1].outcome


@pytest.fixture
def course_in_prepare_with_two_held_calls(clinic, client_a, therapist, medical_practitioner):
    """Client A's course left connect with two held intake calls: an earlier
    one, and the one whose record completed the gate."""
    course = Course.objects.get(client=client_a)
    with time_machine.travel(NOW, tick=False):
        earlier = held_intake_call(course, therapist, days_ago=3)
    call = book(clinic, CALL, email=client_a.user.email, user=client_a.user)
    with time_machine.travel(CALL + timedelta(minutes=40), tick=False):
        eligible_decision(course, therapist)
        first = services.intake_call_record_outcome(
            intake_call=call, outcome="held", notes="Held", actor=medical_practitioner
        )
    course.refresh_from_db()
    assert course.stage == Stage.PREPARE
    return course, [(earlier, earlier.outcomes.get()), (call, first)]


def held_calls(course) -> int:
    return Appointment.objects.filter(
        client_id=course.client_id, kind="intake_call", status="held"
    ).count()


def test_the_two_held_calls_of_a_course_in_prepare_cannot_both_become_no_shows_at_once(
    monkeypatch, course_in_prepare_with_two_held_calls, therapist, medical_practitioner
):
    course, [(call_1, first_1), (call_2, first_2)] = course_in_prepare_with_two_held_calls
    said = together(
        monkeypatch,
        corrector(call_1, therapist, first_1, "no_show", "Wrong person"),
        corrector(call_2, medical_practitioner, first_2, "no_show", "Wrong person"),
    )
    assert said[0] == "ok" and NO_STEP_BACK in said[1], said
    assert held_calls(course) == 1
    course.refresh_from_db()
    assert course.stage == Stage.PREPARE


# --- Controls: what each layer does alone --------------------------------------------------


@pytest.fixture
def without_the_lock(monkeypatch):
    def read_unlocked(intake_call):
        call = type(intake_call).objects.get(pk=intake_call.pk)
        return call, Course.objects.get(pk=call.course_id)

    monkeypatch.setattr(services, "_lock_for_outcome", read_unlocked)


@pytest.fixture
def without_the_was_check(monkeypatch):
    """The mark no longer checks what the appointment said: it always applies."""

    def unconditional(*, appointment, status, now, was=None):
        Appointment.objects.filter(pk=appointment.pk).update(status=status)
        appointment.status = status
        return appointment

    monkeypatch.setattr(calendar, "appointment_mark", unconditional)


@pytest.fixture
def without_the_one_correction_constraint():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'intake_intakecalloutcome'::regclass "
            "AND contype = 'u'"
        )
        (name,) = cursor.fetchone()
        cursor.execute(f"ALTER TABLE intake_intakecalloutcome DROP CONSTRAINT {name}")  # noqa: S608
    yield
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE intake_intakecalloutcome")
        cursor.execute(
            f"ALTER TABLE intake_intakecalloutcome ADD CONSTRAINT {name} UNIQUE (corrects_id)"  # noqa: S608
        )


def test_control_without_the_lock_the_was_check_refuses_the_second(
    monkeypatch, without_the_lock, clinic, therapist, medical_practitioner
):
    call, first = recorded_call(clinic, therapist)
    said = together(
        monkeypatch,
        corrector(call, therapist, first, "no_show", "Note B"),
        corrector(call, medical_practitioner, first, "no_show", "Note C"),
    )
    # Unlocked, the second read the same record and wrote first; the first's mark found it changed.
    assert said[1] == "ok" and STALE in said[0], said
    assert len(chain(call)[1]) == 2


def test_control_without_the_lock_and_the_was_check_the_constraint_refuses_the_second(
    monkeypatch, without_the_lock, without_the_was_check, clinic, therapist, medical_practitioner
):
    call, first = recorded_call(clinic, therapist)
    said = together(
        monkeypatch,
        corrector(call, therapist, first, "no_show", "Note B"),
        corrector(call, medical_practitioner, first, "no_show", "Note C"),
    )
    assert said[1] == "ok" and STALE in said[0], said
    assert len(chain(call)[1]) == 2


@pytest.mark.usefixtures("without_the_one_correction_constraint")
def test_control_without_any_of_the_three_the_history_forks(
    monkeypatch, without_the_lock, without_the_was_check, clinic, therapist, medical_practitioner
):
    call, first = recorded_call(clinic, therapist)
    said = together(
        monkeypatch,
        corrector(call, therapist, first, "no_show", "Note B"),
        corrector(call, medical_practitioner, first, "no_show", "Note C"),
    )
    assert said == ["ok", "ok"], said
    rows = chain(call)[1]
    assert [r.corrects_id for r in rows] == [None, first.pk, first.pk]  # two "current" outcomes


def test_control_without_the_lock_both_held_calls_become_no_shows(
    monkeypatch,
    without_the_lock,
    course_in_prepare_with_two_held_calls,
    therapist,
    medical_practitioner,
):
    course, [(call_1, first_1), (call_2, first_2)] = course_in_prepare_with_two_held_calls
    said = together(
        monkeypatch,
        corrector(call_1, therapist, first_1, "no_show", "Wrong person"),
        corrector(call_2, medical_practitioner, first_2, "no_show", "Wrong person"),
    )
    assert said == ["ok", "ok"], said
    assert held_calls(course) == 0  # a course in prepare with no held intake call
