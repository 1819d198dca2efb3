"""A visitor's booking request waits server-side: the e-mailed link carries
an opaque random token, the database keeps only its hash (and the raw token
only until the e-mail has gone), and expired requests are purged."""

import base64
import binascii
import hashlib
import re
import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse

from clinic.models import OutboxMessage
from clinic.outbox import outbox_sweep
from intake import services, tasks
from intake.models import BookingRequest, IntakeCall
from intake.selectors import Slot
from intake.tests.conftest import NOW, THURSDAY_10
from intake.tests.factories import visitor

pytestmark = pytest.mark.usefixtures("clock")

ALEX = {
    "first_name": "Alex",
    "last_name": "Tremblay",
    "email": "Alex.Private@Example.com",
    "phone": "514 555 0123",
    "language": "en",
    "concern": "anxiety",
    "consent_to_contact": "on",
}


def ask(client, clinic, start=THURSDAY_10, **overrides):
    data = {**ALEX, "submission": str(uuid.uuid4()), **overrides}
    path = reverse("intake:book", args=[clinic.slug, Slot(start, start, ()).key])
    return client.post(path, data)


def emailed_token(to="alex.private@example.com") -> str:
    message = next(m for m in mail.outbox if m.to == [to] and "Confirm" in m.subject)
    return re.search(r"/book/confirm/([^/\s]+)/", message.body).group(1)


def request_of(intake_clinic, start=THURSDAY_10, email="alex@example.com", submission=None):
    services.booking_request(
        clinic=intake_clinic,
        start=start,
        visitor=visitor(email),
        concern="anxiety",
        consent_to_contact=True,
        submission=submission or uuid.uuid4(),
    )
    return BookingRequest.objects.get(email=email)


def every_text_in_the_database() -> str:
    """Every row of the tables a request touches, as text."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT row_to_json(r)::text FROM intake_bookingrequest r "
            "UNION ALL SELECT row_to_json(o)::text FROM clinic_outboxmessage o"
        )
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_link_is_an_opaque_token_and_the_database_keeps_only_its_hash(client, intake_clinic):
    assert "Check your e-mail to confirm" in ask(client, intake_clinic).content.decode()
    request = BookingRequest.objects.get()
    assert (request.email, request.phone, request.concern) == (
        "alex.private@example.com",
        "+15145550123",
        "anxiety",
    )
    assert request.expires_at == NOW + timedelta(hours=24)
    outbox_sweep()
    token = emailed_token()
    assert len(token) >= 43 and re.fullmatch(r"[A-Za-z0-9_-]+", token)
    assert request.token_hash == hashlib.sha256(token.encode()).hexdigest()
    # Nothing about the visitor can be read out of the link.
    try:
        decoded = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        decoded = b""
    for secret in (b"alex", b"Alex", b"5145550123", b"anxiety", b"Tremblay"):
        assert secret not in decoded
    # Once the e-mail is sent, the raw token is nowhere in the database.
    assert token not in every_text_in_the_database()
    assert "token" not in OutboxMessage.objects.get(kind=services.CONFIRM_REQUEST).payload


def test_a_failed_send_keeps_the_token_and_the_retry_sends_the_same_link(
    intake_clinic, settings, clock
):
    request_of(intake_clinic)
    settings.EMAIL_BACKEND = "intake.tests.test_booking_requests.FailingMail"
    outbox_sweep()
    message = OutboxMessage.objects.get(kind=services.CONFIRM_REQUEST)
    assert message.status == "pending" and message.attempts == 1
    kept = message.payload["token"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    clock.move_to(NOW + timedelta(minutes=5))
    outbox_sweep()
    assert emailed_token("alex@example.com") == kept
    assert "token" not in OutboxMessage.objects.get(kind=services.CONFIRM_REQUEST).payload


class FailingMail:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionError("mail server down")


def test_an_email_not_sent_before_the_request_expired_is_skipped_and_its_token_dropped(
    intake_clinic, clock
):
    request_of(intake_clinic)
    clock.move_to(NOW + timedelta(hours=25))
    outbox_sweep()
    message = OutboxMessage.objects.get(kind=services.CONFIRM_REQUEST)
    assert message.status == "skipped" and "token" not in message.payload
    assert not mail.outbox


def test_the_same_form_sent_twice_is_one_request_and_one_email(intake_clinic):
    submission = uuid.uuid4()
    request_of(intake_clinic, submission=submission)
    request_of(intake_clinic, submission=submission)
    assert BookingRequest.objects.count() == 1
    assert OutboxMessage.objects.filter(kind=services.CONFIRM_REQUEST).count() == 1


def test_confirming_books_the_call_once_with_the_requests_details(client, intake_clinic):
    ask(client, intake_clinic)
    outbox_sweep()
    token = emailed_token()
    link = reverse("intake:confirm", args=[token])
    page = client.get(link).content.decode()
    assert "We will call you at +15145550123" in page
    assert not IntakeCall.objects.exists()  # opening the link books nothing by itself
    assert client.post(link).status_code == 302
    call = IntakeCall.objects.select_related("course__client__user").get()
    assert call.course.client.user.email == "alex.private@example.com"
    assert call.submission == BookingRequest.objects.get().submission
    assert BookingRequest.objects.get().confirmed_at == NOW


def test_a_refused_booking_leaves_the_link_usable_until_it_expires(client, intake_clinic):
    from intake.tests.factories import book_call

    ask(client, intake_clinic)
    outbox_sweep()
    link = reverse("intake:confirm", args=[emailed_token()])
    book_call(intake_clinic, THURSDAY_10, email="quicker@example.com")
    refused = client.post(link)
    assert "not available any more" in refused.content.decode()
    assert BookingRequest.objects.get().confirmed_at is None
    assert client.get(link).status_code == 200


def test_the_purge_forgets_expired_requests_confirmed_or_not_and_keeps_the_rest(
    client, intake_clinic, clock
):
    old_unconfirmed = request_of(intake_clinic, email="old@example.com")
    old_confirmed = request_of(
        intake_clinic, email="booked@example.com", start=THURSDAY_10 + timedelta(hours=1)
    )
    outbox_sweep()
    services.booking_request_confirm(token=emailed_token("booked@example.com"))
    clock.move_to(NOW + timedelta(hours=23))
    fresh = request_of(intake_clinic, email="fresh@example.com")
    clock.move_to(NOW + timedelta(hours=24, minutes=1))
    result = services.expired_requests_purge()
    assert result.booking_requests == 2
    assert list(BookingRequest.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not BookingRequest.objects.filter(pk__in=[old_unconfirmed.pk, old_confirmed.pk])
    assert IntakeCall.objects.count() == 1  # the confirmed booking stays
    # The fresh request's e-mail has not gone yet: its token stays for it.
    pending = OutboxMessage.objects.get(key=str(fresh.uuid))
    assert pending.status == "pending" and "token" in pending.payload


def test_the_purge_blanks_tokens_an_email_never_delivered(intake_clinic, settings, clock):
    request = request_of(intake_clinic)
    settings.EMAIL_BACKEND = "intake.tests.test_booking_requests.FailingMail"
    OutboxMessage.objects.filter(key=str(request.uuid)).update(attempts=7)
    outbox_sweep()  # the eighth failure: given up
    message = OutboxMessage.objects.get(key=str(request.uuid))
    assert message.status == "failed" and "token" in message.payload
    clock.move_to(NOW + timedelta(hours=25))
    services.expired_requests_purge()
    message.refresh_from_db()
    assert "token" not in message.payload


def test_beat_runs_the_purge_every_hour(intake_clinic, clock, settings):
    from config.celery import app

    request_of(intake_clinic)
    entry = settings.CELERY_BEAT_SCHEDULE["intake-purge-expired-requests"]
    assert entry["task"] == "intake.tasks.purge_expired_requests"
    assert entry["schedule"] == 3600.0
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks
    assert tasks.purge_expired_requests() == {"booking_requests": 0, "interest_registrations": 0}
    clock.move_to(NOW + timedelta(days=2))
    assert tasks.purge_expired_requests.apply().get()["booking_requests"] == 1
    assert not BookingRequest.objects.exists()
