"""The outbox: work written as a row in the action's transaction, done once
by the sweep, whoever runs it and however often."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from clinic import outbox
from clinic.emails import WELCOME
from clinic.models import OutboxMessage

delivered: Counter = Counter()


@outbox.handler("test.count")
def count_delivery(message):
    delivered[message.key] += 1
    return True


@outbox.handler("test.flaky")
def always_fails(message):
    raise ConnectionError("SMTP server said no")


@pytest.fixture(autouse=True)
def _reset():
    delivered.clear()


def test_the_same_work_queued_twice_is_one_row(db):
    outbox.outbox_enqueue(kind="test.count", key="a")
    outbox.outbox_enqueue(kind="test.count", key="a")
    assert OutboxMessage.objects.count() == 1


def test_an_unknown_kind_is_refused_at_once(db):
    with pytest.raises(ValueError, match="No outbox handler"):
        outbox.outbox_enqueue(kind="nobody.handles.this", key="a")


def test_the_welcome_email_goes_once_in_the_clients_language(client_a):
    client_a.user.preferred_language = "fr"
    client_a.user.save()
    outbox.outbox_enqueue(
        kind=WELCOME,
        key="user:1",
        payload={"user_id": client_a.user_id},
    )
    result = outbox.outbox_sweep()
    assert (result.sent, result.failed) == (1, 0)
    assert outbox.outbox_sweep().sent == 0
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [client_a.user.email]
    assert message.subject.startswith("Bienvenue")
    assert "9-8-8" in message.body
    # The link is on the site's configured address (SITE_URL), whoever's request queued it.
    assert message.alternatives and "http://testserver/portal/" in message.alternatives[0][0]
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.SENT


def test_work_that_is_not_due_waits(db):
    outbox.outbox_enqueue(
        kind="test.count", key="later", due_at=timezone.now() + timedelta(hours=1)
    )
    assert outbox.outbox_sweep().sent == 0
    assert outbox.outbox_sweep(now=timezone.now() + timedelta(hours=2)).sent == 1
    assert delivered == {"later": 1}


def test_work_for_a_person_who_left_is_skipped(client_a):
    client_a.user.is_active = False
    client_a.user.save()
    outbox.outbox_enqueue(kind=WELCOME, key="u", payload={"user_id": client_a.user_id})
    assert outbox.outbox_sweep().skipped == 1
    assert not mail.outbox
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.SKIPPED


def test_a_failing_handler_is_retried_later_then_marked_failed(db):
    outbox.outbox_enqueue(kind="test.flaky", key="x")
    now = timezone.now()
    first = outbox.outbox_sweep(now=now)
    message = OutboxMessage.objects.get()
    assert (first.retried, message.attempts, message.status) == (1, 1, "pending")
    assert "SMTP server said no" in message.last_error
    assert message.due_at > now  # backs off instead of hammering
    for day in range(1, outbox.MAX_ATTEMPTS + 1):
        outbox.outbox_sweep(now=now + timedelta(days=day))
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.FAILED
    assert message.attempts == outbox.MAX_ATTEMPTS


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_deliver_each_message_exactly_once():
    assert connection.vendor == "postgresql"
    for i in range(60):
        outbox.outbox_enqueue(kind="test.count", key=f"m{i}")
    barrier = threading.Barrier(3)
    results = []

    def sweep():
        try:
            barrier.wait(timeout=10)
            results.append(outbox.outbox_sweep())
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(delivered) == 60
    assert set(delivered.values()) == {1}
    assert sum(r.sent for r in results) == 60
    assert OutboxMessage.objects.filter(status="sent").count() == 60
