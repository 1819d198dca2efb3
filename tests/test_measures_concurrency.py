"""A client answers the same questionnaire twice at the same moment (two
tabs, a double click), on PostgreSQL with real threads and connections:
one answer is saved, the other is told it was already answered.

The first attempt is held after its first write until the second has
finished (nothing stopped it) or is seen waiting on a row lock. With the
lock the second waits, then reads the invitation answered. The control
removes the lock: both read it open, and the conditional update
(`answered_at IS NULL`) is then the last line that keeps one answer."""

import threading
import time

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.utils import translation

from eligibility import services as eligibility_services
from eligibility.models import QuestionnaireResponse
from integration.measures import services
from integration.measures.models import MeasureInvitation
from integration.tests.measure_factories import answers_scoring, follow_up

pytestmark = pytest.mark.django_db(transaction=True)


def locks_waited_on() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def answer_twice_at_once(monkeypatch, invitation) -> list[str]:
    assert connection.vendor == "postgresql"
    reached = threading.Event()
    release = threading.Event()
    real_record = eligibility_services.questionnaire_record
    results: dict[str, str] = {}

    def record(**kwargs):
        row = real_record(**kwargs)
        if threading.current_thread().name == "first" and not reached.is_set():
            reached.set()
            assert release.wait(20)
        return row

    monkeypatch.setattr(eligibility_services, "questionnaire_record", record)

    def attempt(score):
        translation.activate("en")
        try:
            services.invitation_answer(
                invitation=MeasureInvitation.objects.get(pk=invitation.pk),
                client=invitation.client,
                phq9=answers_scoring(score, 9),
                gad7=answers_scoring(score, 7),
            )
            results[threading.current_thread().name] = "ok"
        except services.MeasureError as exc:
            results[threading.current_thread().name] = str(exc)
        finally:
            connection.close()

    first = threading.Thread(target=attempt, args=(6,), name="first")
    second = threading.Thread(target=attempt, args=(12,), name="second")
    first.start()
    assert reached.wait(20)
    second.start()
    deadline = time.monotonic() + 20
    while second.is_alive() and locks_waited_on() == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    waited = locks_waited_on()
    release.set()
    first.join(20)
    second.join(20)
    assert waited in (0, 1)
    return [results["first"], results["second"]]


@pytest.fixture
def invitation(client_a):
    return follow_up(client_a.courses.get())


def test_two_answers_at_once_save_one(monkeypatch, invitation):
    first, second = answer_twice_at_once(monkeypatch, invitation)
    assert first == "ok" and "already been answered" in second
    assert QuestionnaireResponse.objects.count() == 2
    assert MeasureInvitation.objects.get(pk=invitation.pk).phq9.score == 6


def test_control_without_the_lock_the_conditional_update_still_keeps_one(monkeypatch, invitation):
    monkeypatch.setattr(QuerySet, "select_for_update", lambda self, *a, **k: self)
    first, second = answer_twice_at_once(monkeypatch, invitation)
    # Nothing made the second wait: it answered while the first was held,
    # and the first's update then found the invitation answered.
    assert second == "ok" and "already been answered" in first
    assert QuestionnaireResponse.objects.count() == 2
    assert MeasureInvitation.objects.get(pk=invitation.pk).phq9.score == 12
