"""One real job end to end: a client verifies their e-mail address, the
welcome e-mail is written to the outbox, and a real Celery worker consuming
from the real Redis broker sends it."""

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.urls import reverse

from clinic.models import OutboxMessage
from clinic.tasks import outbox_sweep
from config.celery import app


@pytest.fixture
def celery_worker(transactional_db):
    import celery.contrib.testing.tasks  # noqa: F401  (the ping task start_worker checks with)

    assert app.conf.broker_url.startswith("redis://")
    with start_worker(app, pool="solo", perform_ping_check=True, shutdown_timeout=10) as worker:
        yield worker


def test_a_real_worker_sends_the_welcome_email_after_verification(client, clinic_qc, celery_worker):
    client.post(
        reverse("account_signup"),
        {
            "first_name": "Sam",
            "last_name": "Okafor",
            "email": "sam@example.com",
            "clinic": clinic_qc.pk,
            "preferred_language": "en",
            "password1": "a-long-test-passphrase",
            "password2": "a-long-test-passphrase",
        },
    )
    key = mail.outbox[0].body.split("/accounts/confirm-email/")[1].split("/")[0]
    client.post(reverse("account_confirm_email", args=[key]))
    assert OutboxMessage.objects.get(kind="accounts.welcome").status == "pending"

    result = outbox_sweep.delay().get(timeout=30)

    assert result["sent"] == 1
    welcome = [m for m in mail.outbox if m.to == ["sam@example.com"] and "Welcome" in m.subject]
    assert len(welcome) == 1
    assert OutboxMessage.objects.get(kind="accounts.welcome").status == "sent"
    # A retry of the task (a second delivery of the same message) sends nothing more.
    assert outbox_sweep.delay().get(timeout=30)["sent"] == 0
    assert len([m for m in mail.outbox if "Welcome" in m.subject]) == 1
