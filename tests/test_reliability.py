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


@pytest.fixture
def outage(settings):
    settings.CELERY_BROKER_URL = CLOSED
    settings.CACHES = {
        **settings.CACHES,
        "ratelimit": {**settings.CACHES["ratelimit"], "LOCATION": CLOSED},
    }
    # Nothing in a web request publishes to the broker (the outbox carries the
    # work), so the Celery app itself is left alone: a test that changed its
    # broker would leave a dead connection pool behind for the next one.
    yield


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
