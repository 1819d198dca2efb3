"""Two people recording at the same moment, on PostgreSQL: each write
locks the row it hangs from before it reads the facts it checks, so the
second waits for the first and is refused with a sentence (not a server
error from the database's constraint). Each test holds the first writer
between its read and its write; without the lock both read the same
facts (see the control, which shows the race the lock prevents)."""

import contextlib
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import translation

from sessions.models import Administration, DosePlan
from sessions.services import record
from sessions.services.record import RecordError

from .record_factories import dose, vitals

pytestmark = pytest.mark.django_db(transaction=True)


def race(monkeypatch, target: str, *calls):
    """Run the calls at once, each pausing right after reading the facts
    it checks (`target`, a function the service calls) until the other has
    read them too, or a second has passed (it is waiting on a lock)."""
    barrier = threading.Barrier(len(calls))
    real = getattr(record, target)

    def paused(*args, **kwargs):
        result = real(*args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=1)
        return result

    monkeypatch.setattr(record, target, paused)
    outcomes: list = [None] * len(calls)

    def run(i, call):
        translation.activate("en")  # a new thread starts in the site's default, French
        try:
            outcomes[i] = call()
        except Exception as exc:  # the outcome under test, whatever it is
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def two_doses(dosing_session, therapist, medical_practitioner, monkeypatch):
    vitals(dosing_session, therapist)
    return race(
        monkeypatch,
        "session_facts_now",
        lambda: dose(dosing_session, medical_practitioner),
        lambda: dose(dosing_session, therapist),
    )


def test_two_doses_recorded_at_once_make_one_and_a_refusal(
    dosing_session, therapist, medical_practitioner, monkeypatch
):
    outcomes = two_doses(dosing_session, therapist, medical_practitioner, monkeypatch)
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert Administration.objects.count() == 1
    assert len(refused) == 1 and isinstance(refused[0], RecordError), outcomes
    assert str(refused[0]) == record.MSG_ALREADY_GIVEN


def test_control_without_the_lock_both_read_the_same_facts(
    dosing_session, therapist, medical_practitioner, monkeypatch
):
    """The control: the same race with the session's row lock taken away.
    Both writers see no dose, and both write one; only the database's
    constraint (one dose per session) stops the second, which then gets no
    more than "changed in the meantime"."""
    real_lock = record._lock_session

    def no_lock(session):
        from sessions.models import DosingSession

        return DosingSession.objects.select_related(
            "appointment__clinic__dosing_settings", "series__course"
        ).get(pk=session.pk)

    monkeypatch.setattr(record, "_lock_session", no_lock)
    outcomes = two_doses(dosing_session, therapist, medical_practitioner, monkeypatch)
    monkeypatch.setattr(record, "_lock_session", real_lock)
    assert Administration.objects.count() == 1  # the constraint, the last line
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(refused) == 1 and str(refused[0]) == record.MSG_CHANGED, outcomes


def test_two_practitioners_changing_the_plan_at_once_make_one_change(
    dosing_course, medical_practitioner, monkeypatch
):
    first = record.dose_plan_set(
        course=dosing_course,
        actor=medical_practitioner,
        route="nasal_spray",
        dose_mg=Decimal("50"),
        seen=None,
    )

    def change(mg):
        return lambda: record.dose_plan_set(
            course=dosing_course,
            actor=medical_practitioner,
            route="nasal_spray",
            dose_mg=Decimal(mg),
            seen=first.pk,
        )

    outcomes = race(monkeypatch, "dose_plan_in_force", change("55"), change("60"))
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert DosePlan.objects.count() == 2
    assert len(refused) == 1 and str(refused[0]) == record.MSG_PLAN_CHANGED, outcomes
