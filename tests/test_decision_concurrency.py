"""Two clinicians decide on the same screening at the same moment, on
PostgreSQL with real threads and connections: exactly one decision is
recorded on the submission, and the course and the screening follow it.

The controls show what each layer does: without the lock the database's
one-decision-per-submission constraint still lets one through (the others
get the sentence, not a 500); with the lock alone it holds too; without the
lock and the constraint the race is real and the submission is decided
several times over."""

import contextlib
import threading

import pytest
from django.db import connection
from django.utils import translation

from clinic.models import Course, Stage
from eligibility import services
from eligibility.models import Decision, Screening
from eligibility.tests.factories import sent_screening

pytestmark = pytest.mark.django_db(transaction=True)

KINDS = ["eligible", "more_information", "eligible", "not_eligible", "more_information", "eligible"]
ATTEMPTS = len(KINDS)


@pytest.fixture
def screening(client_a):
    return sent_screening(client_a)


def race(screening, clinicians) -> dict[str, list]:
    """Each clinician in turn records one of KINDS, all at once."""
    assert connection.vendor == "postgresql"
    barrier = threading.Barrier(ATTEMPTS)
    outcomes = {"recorded": [], "refused": [], "crashed": []}
    lock = threading.Lock()

    def attempt(i):
        translation.activate("en")  # a new thread starts in the site's default, French
        try:
            barrier.wait(timeout=30)
            services.decision_record(
                screening=screening,
                clinician=clinicians[i % len(clinicians)],
                kind=KINDS[i],
                note=f"Decision {i}.",
            )
            with lock:
                outcomes["recorded"].append(KINDS[i])
        except services.ScreeningError as exc:
            with lock:
                outcomes["refused"].append(str(exc))
        except Exception as exc:  # noqa: BLE001  (a crash is what the test looks for)
            with lock:
                outcomes["crashed"].append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def assert_one_decision_followed(screening, outcomes):
    assert outcomes["crashed"] == [], outcomes["crashed"][:3]
    assert len(outcomes["recorded"]) == 1, outcomes
    [decision] = Decision.objects.all()
    assert decision.submission == screening.submissions.get()
    assert decision.kind == outcomes["recorded"][0]
    stage = Course.objects.get(pk=screening.course_id).stage
    status = Screening.objects.get(pk=screening.pk).status
    assert stage == (Stage.DECLINED if decision.kind == "not_eligible" else Stage.CONNECT)
    assert status == ("draft" if decision.kind == "more_information" else "submitted")


def test_two_clinicians_at_once_record_one_decision(screening, therapist, medical_practitioner):
    outcomes = race(screening, [therapist, medical_practitioner])
    assert_one_decision_followed(screening, outcomes)
    assert len(outcomes["refused"]) == ATTEMPTS - 1
    assert set(outcomes["refused"]) <= {
        services.MSG_ALREADY_DECIDED,  # decided, the screening still sent
        services.MSG_NOT_SUBMITTED,  # "more information" won: back with the client
    }


@pytest.fixture
def without_the_lock(monkeypatch):
    """Control: every decision reads the screening at the same instant, unlocked."""
    gate = threading.Barrier(ATTEMPTS, timeout=30)

    def unlocked(screening):
        current = Screening.objects.select_related("clinic", "course").get(pk=screening.pk)
        with contextlib.suppress(threading.BrokenBarrierError):
            gate.wait()
        return current

    monkeypatch.setattr(services, "screening_lock", unlocked)


@pytest.fixture
def without_the_constraint():
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE eligibility_decision DROP CONSTRAINT decision_one_per_submission"
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM eligibility_decision")
        cursor.execute(
            "ALTER TABLE eligibility_decision "
            "ADD CONSTRAINT decision_one_per_submission UNIQUE (submission_id)"
        )


def test_control_without_the_lock_the_constraint_still_admits_one(
    screening, therapist, medical_practitioner, without_the_lock
):
    outcomes = race(screening, [therapist, medical_practitioner])
    assert outcomes["crashed"] == [], outcomes["crashed"][:3]
    assert Decision.objects.count() == 1
    assert services.MSG_ALREADY_DECIDED in outcomes["refused"]


def test_the_lock_alone_admits_exactly_one(
    screening, therapist, medical_practitioner, without_the_constraint
):
    outcomes = race(screening, [therapist, medical_practitioner])
    assert_one_decision_followed(screening, outcomes)


def test_control_without_lock_or_constraint_the_submission_is_decided_twice(
    screening, therapist, medical_practitioner, without_the_lock, without_the_constraint
):
    race(screening, [therapist, medical_practitioner])
    assert Decision.objects.count() > 1, "the race did not show: the control proves nothing"
