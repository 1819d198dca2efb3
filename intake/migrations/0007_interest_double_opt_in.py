"""Interest registrations become double opt-in: each is pending until the
owner of the address opens a link e-mailed to it.

Written by hand. Registrations made before this could have been typed in by
anyone (the form overwrote whatever was registered under an address), so
none of them counts as confirmed: each becomes pending with a fresh link,
and the outbox sends that link once (the same e-mail a new registration
gets, in the registrant's language). Those not confirmed within the week are
purged like any other. Their consent record keeps when they registered and
the one page that had the form."""

import hashlib
import secrets
import uuid
from datetime import timedelta

import django.db.models.functions.text
from django.db import migrations, models
from django.utils import timezone

CONFIRM_KIND = "intake.interest_confirm"  # intake.services.INTEREST_CONFIRM
LINK_LIFETIME = timedelta(days=7)  # intake.services.INTEREST_MAX_AGE


def ask_each_registrant_to_confirm(apps, schema_editor):
    registration_model = apps.get_model("intake", "InterestRegistration")
    outbox_model = apps.get_model("clinic", "OutboxMessage")
    now = timezone.now()
    seen = set()
    messages = []
    # Newest first: were an address typed in two cases, the latest registration stands.
    for registration in registration_model.objects.order_by("-created_at", "-pk"):
        email = registration.email.strip().lower()
        if (email, registration.concern) in seen:
            registration.delete()
            continue
        seen.add((email, registration.concern))
        token = secrets.token_urlsafe(32)
        registration.uuid = uuid.uuid4()
        registration.email = email
        registration.consent_page = registration.consent_page or "/book/interest/"
        registration.token_hash = hashlib.sha256(token.encode()).hexdigest()
        registration.expires_at = now + LINK_LIFETIME
        registration.save()
        messages.append(
            outbox_model(
                kind=CONFIRM_KIND,
                key=str(registration.uuid),
                payload={"registration": str(registration.uuid), "token": token},
                due_at=now,
            )
        )
    outbox_model.objects.bulk_create(messages)


def forget_the_requests(apps, schema_editor):
    apps.get_model("clinic", "OutboxMessage").objects.filter(
        kind=CONFIRM_KIND, status="pending"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0015_closure_requests_kept"),
        ("intake", "0006_bookingrequest"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="interestregistration",
            name="interest_once_per_program",
        ),
        migrations.AddField(
            model_name="interestregistration",
            name="uuid",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="interestregistration",
            name="confirmed_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="confirmed at"),
        ),
        migrations.AddField(
            model_name="interestregistration",
            name="consent_page",
            field=models.CharField(blank=True, max_length=300, verbose_name="page where consent was given"),
        ),
        migrations.AddField(
            model_name="interestregistration",
            name="consent_wording",
            field=models.TextField(blank=True, verbose_name="consent as worded on that page"),
        ),
        migrations.AddField(
            model_name="interestregistration",
            name="expires_at",
            field=models.DateTimeField(null=True, verbose_name="confirmation link expires at"),
        ),
        migrations.AddField(
            model_name="interestregistration",
            name="token_hash",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.RunPython(ask_each_registrant_to_confirm, forget_the_requests),
        migrations.AlterField(
            model_name="interestregistration",
            name="uuid",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.AlterField(
            model_name="interestregistration",
            name="expires_at",
            field=models.DateTimeField(verbose_name="confirmation link expires at"),
        ),
        migrations.AlterField(
            model_name="interestregistration",
            name="token_hash",
            field=models.CharField(editable=False, max_length=64, unique=True),
        ),
        migrations.AddIndex(
            model_name="interestregistration",
            index=models.Index(condition=models.Q(("confirmed_at__isnull", True)), fields=["expires_at"], name="interest_pending_expires_idx"),
        ),
        migrations.AddConstraint(
            model_name="interestregistration",
            constraint=models.UniqueConstraint(django.db.models.functions.text.Lower("email"), models.F("concern"), name="interest_once_per_address_and_program"),
        ),
    ]
