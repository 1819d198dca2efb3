"""Outages: with the broker and Redis unreachable the web still books and
screens, quickly; the queued work goes out once they are back; a worker
killed in the middle of a sweep loses nothing and duplicates nothing."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from clinic import outbox
from clinic.models import OutboxMessage
from clinic.outbox import outbox_sweep
from eligibility.models import Screening
from intake.models import IntakeCall
from intake.selectors import intake_slots
from intake.tests.factories import rules, weekly_availability

BASE = Path(__file__).resolve().parents[1]
CLOSED = "redis://127.0.0.1:1/0"  # nothing listens there


def _reset_celery_connections(app) -> None:
    """Forget the app's connection and producer pools: the next publish
    takes the pool of whatever the broker URL is now. (kombu keeps one pool
    per broker URL for the whole process: the live broker's stays open for
    the tests after this one, so it must not be closed here.)"""
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def outage(settings):
    """The broker and Redis really down for the code under test: the Celery
    app's broker URL points at a closed port and its pools are dropped (a
    pool kept from an earlier test would otherwise go on publishing to the
    live broker), and the rate limits' Redis is the closed port too."""
    from config.celery import app

    live = app.conf.broker_url
    settings.CELERY_BROKER_URL = CLOSED
    settings.CACHES = {
        **settings.CACHES,
        "ratelimit": {**settings.CACHES["ratelimit"], "LOCATION": CLOSED},
    }
    app.conf.broker_url = CLOSED
    _reset_celery_connections(app)
    yield
    app.conf.broker_url = live
    _reset_celery_connections(app)


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_booking_and_screening_work_quickly_with_broker_and_redis_down(
    client, client_a, clinic_qc, therapist, outage
):
    rules(clinic_qc, minimum_notice_hours=0)
    weekly_availability(clinic_qc, therapist)
    slot = next(s for day in intake_slots(clinic=clinic_qc).values() for s in day)
    client.force_login(client_a.user)
    data = {
        "phone": "514 555 0123",
        "language": "en",
        "concern": "anxiety",
        "consent_to_contact": "on",
        "submission": str(uuid.uuid4()),
    }
    response, seconds = timed(
        lambda: client.post(reverse("intake:book", args=[clinic_qc.slug, slot.key]), data)
    )
    assert response.status_code == 302 and seconds < 2
    assert IntakeCall.objects.filter(course__client=client_a).exists()
    response, seconds = timed(
        lambda: client.post("/portal/screening/safety/", {"safety_now": "yes"})
    )
    assert seconds < 2
    assert Screening.objects.get(course__client=client_a).crisis_flag
    # The broker comes back: the worker's sweep sends what was queued, once.
    assert OutboxMessage.objects.filter(status="pending").count() >= 3
    outbox_sweep()
    outbox_sweep()
    sent = [m.subject for m in mail.outbox]
    assert sum("Your intake call" in s for s in sent) == 1
    assert sum("URGENT" in s for s in sent) >= 1
    assert not OutboxMessage.objects.filter(status="pending", due_at__lte=timezone.now()).exists()


@pytest.fixture
def warm_pools():
    """What a full run leaves behind: the app has already published to the
    live broker, so its pools hold open connections to it."""
    from config.celery import app

    with app.producer_or_acquire() as producer:
        producer.connection.ensure_connection(max_retries=1)
    assert app.amqp._producer_pool is not None


def test_the_outage_is_real_a_view_that_publishes_fails(
    client, client_a, clinic_qc, therapist, warm_pools, outage, monkeypatch
):
    """The proof that `outage` cuts the broker for the code under test: a
    booking view changed to publish a task directly (what the outbox exists
    to avoid) fails, where the same view without it works (test above)."""
    import kombu.exceptions

    from clinic.tasks import outbox_sweep as sweep_task
    from intake import services as intake_services

    rules(clinic_qc, minimum_notice_hours=0)
    weekly_availability(clinic_qc, therapist)
    slot = next(s for day in intake_slots(clinic=clinic_qc).values() for s in day)
    book = intake_services.intake_call_book

    def book_and_publish(**kwargs):
        call = book(**kwargs)
        sweep_task.delay()  # straight to the broker, inside the request
        return call

    monkeypatch.setattr(intake_services, "intake_call_book", book_and_publish)
    client.force_login(client_a.user)
    data = {
        "phone": "514 555 0123",
        "language": "en",
        "concern": "anxiety",
        "consent_to_contact": "on",
        "submission": str(uuid.uuid4()),
    }
    with pytest.raises(kombu.exceptions.OperationalError):
        client.post(reverse("intake:book", args=[clinic_qc.slug, slot.key]), data)


def test_with_the_broker_and_redis_down_a_staff_list_still_logs_its_reads(
    client_a, client_b, therapist, staff_login, outage
):
    """Entries are written in the request's own transaction, never sent to
    the broker: they wait unsealed until the worker's sealer is back."""
    from clinic.access_log import access_log_seal
    from clinic.models import AccessLogEntry

    web = staff_login(therapist)
    response, seconds = timed(lambda: web.get(reverse("staff:home")))
    assert response.status_code == 200 and seconds < 2
    waiting = AccessLogEntry.objects.filter(actor=therapist, seq__isnull=True)
    assert set(waiting.values_list("client", flat=True)) == {client_a.pk, client_b.pk}
    # The worker is back: its sealer chains them.
    assert access_log_seal() == 2
    assert not waiting.exists()


def _worker(env_extra):
    db = connection.settings_dict
    env = {
        **os.environ,
        **env_extra,
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DATABASE_URL": f"postgres://{db['USER'] or 'root'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
    }
    code = "import django; django.setup(); import tests.outbox_probe; from clinic.outbox import outbox_sweep; outbox_sweep()"
    return subprocess.Popen([sys.executable, "-c", code], cwd=BASE, env=env)


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_sweep_loses_nothing_and_duplicates_nothing(tmp_path):
    import tests.outbox_probe as probe

    for i in range(5):
        outbox.outbox_enqueue(kind=probe.KIND, key=f"m{i}", payload={"hang": i == 2})
    hang_file = tmp_path / "hanging"
    worker = _worker({"PROBE_HANG_FILE": str(hang_file)})
    for _ in range(300):
        if hang_file.exists():
            break
        time.sleep(0.1)  # waiting for a separate process, not for time to pass in the app
    assert hang_file.exists(), "the worker never reached the third message"
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    # Two were done and committed before the kill; the third was in flight.
    assert set(
        OutboxMessage.objects.filter(kind="test.delivered").values_list("key", flat=True)
    ) == {"m0", "m1"}
    assert OutboxMessage.objects.get(kind=probe.KIND, key="m2").status == "pending"
    # A new worker (this time nothing hangs) finishes the job.
    OutboxMessage.objects.filter(kind=probe.KIND).update(payload={})
    restart = _worker({})
    restart.wait(timeout=60)
    delivered = list(
        OutboxMessage.objects.filter(kind="test.delivered").values_list("key", flat=True)
    )
    assert sorted(delivered) == ["m0", "m1", "m2", "m3", "m4"]  # each exactly once
    assert not OutboxMessage.objects.filter(kind=probe.KIND).exclude(status="sent").exists()


def _celery_worker(queue: str, env_extra: dict) -> subprocess.Popen:
    """A real `celery worker` as production runs it (acks late, requeued if
    the worker is lost, one task prefetched; config/settings.py), on this
    test's own queue and database, with the probe handler loaded."""
    db = connection.settings_dict
    env = {
        **os.environ,
        **env_extra,
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DATABASE_URL": f"postgres://{db['USER'] or 'root'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        # A task whose worker died goes back to the queue after 3 s (an hour in production).
        "CELERY_VISIBILITY_TIMEOUT": "3",
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool",
        "solo",
        "--queues",
        queue,
        "--include",
        "tests.outbox_probe",
        "--hostname",
        f"{queue}-{uuid.uuid4().hex[:6]}@%h",
        "--without-gossip",
        "--without-mingle",
        "--loglevel",
        "WARNING",
    ]
    return subprocess.Popen(
        command, cwd=BASE, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _delivered() -> list[str]:
    return sorted(OutboxMessage.objects.filter(kind="test.delivered").values_list("key", flat=True))


@pytest.mark.django_db(transaction=True)
def test_a_real_celery_worker_killed_mid_task_sends_each_message_once_when_one_comes_back(
    tmp_path,
):
    import tests.outbox_probe as probe
    from clinic.tasks import outbox_sweep as sweep_task
    from config.celery import app

    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    assert app.conf.worker_prefetch_multiplier == 1
    for i in range(5):
        outbox.outbox_enqueue(kind=probe.KIND, key=f"m{i}", payload={"hang": i == 2})
    queue = f"kill-{uuid.uuid4().hex[:8]}"
    hang_file = tmp_path / "hanging"
    first = _celery_worker(queue, {"PROBE_HANG_FILE": str(hang_file)})
    try:
        sweep_task.apply_async(queue=queue)
        for _ in range(600):
            if hang_file.exists():
                break
            time.sleep(0.1)  # waiting for another process, not for time to pass in the app
        assert hang_file.exists(), "the worker never reached the third message"
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    # What was committed before the kill stays done; the message in flight is not lost.
    assert _delivered() == ["m0", "m1"]
    assert OutboxMessage.objects.get(kind=probe.KIND, key="m2").status == "pending"

    # A worker comes back. The killed task is delivered to it again (acks late,
    # visibility timeout), and beat's next sweep arrives too: each message once.
    OutboxMessage.objects.filter(kind=probe.KIND).update(payload={})
    second = _celery_worker(queue, {})
    try:
        for _ in range(600):
            if _delivered() == ["m0", "m1", "m2", "m3", "m4"]:
                break
            time.sleep(0.1)
        assert _delivered() == ["m0", "m1", "m2", "m3", "m4"]
        assert sweep_task.apply_async(queue=queue).get(timeout=60)["sent"] == 0
        assert _delivered() == ["m0", "m1", "m2", "m3", "m4"]
        assert not OutboxMessage.objects.filter(kind=probe.KIND).exclude(status="sent").exists()
    finally:
        second.terminate()
        second.wait(timeout=30)
