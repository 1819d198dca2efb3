"""The hand-written data migrations, run forward and back on PostgreSQL."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from clinic.models import Appointment, AppointmentKind, Course

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE_OUTCOMES = ("intake", "0004_intakecall_outcome_by_at")
OUTCOMES = ("intake", "0005_intakecalloutcome")


def migrate_intake(target):
    """Move the intake app to `target` (None: every migration) and return
    the models as they are there."""
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    targets = leaves if target is None else [target]
    executor.migrate(targets)
    executor.loader.build_graph()
    # The state at `target` and what it depends on: other apps' later
    # migrations may depend on later intake ones (they were unapplied with them).
    return executor.loader.project_state([target] if target else leaves).apps


@pytest.fixture
def at_0004(clinic_qc):
    old = migrate_intake(BEFORE_OUTCOMES)
    yield old
    migrate_intake(None)


def old_call(old_apps, course, status, **fields):
    start = timezone.now() - timedelta(days=2)
    appointment = Appointment.objects.create(
        clinic=course.clinic,
        kind=AppointmentKind.INTAKE_CALL,
        start=start,
        end=start + timedelta(minutes=30),
        client=course.client,
        status=status,
    )
    return old_apps.get_model("intake", "IntakeCall").objects.create(
        appointment_id=appointment.pk,
        course_id=course.pk,
        concern="depression",
        language="fr",
        phone="+15145550123",
        consent_to_contact=True,
        submission=uuid.uuid4(),
        **fields,
    )


def test_each_marked_calls_notes_become_its_first_outcome_record_and_come_back(
    at_0004, client_a, client_b, therapist
):
    course_a = Course.objects.get(client=client_a)
    course_b = Course.objects.get(client=client_b)
    marked_at = timezone.now() - timedelta(days=1)
    held = old_call(
        at_0004,
        course_a,
        "held",
        notes="Good fit.",
        outcome_by_id=therapist.pk,
        outcome_at=marked_at,
    )
    no_show = old_call(at_0004, course_b, "no_show", notes="")  # marked before 0004: no author
    booked = old_call(at_0004, course_b, "booked")

    new = migrate_intake(OUTCOMES)
    outcome_model = new.get_model("intake", "IntakeCallOutcome")
    rows = {
        o.call_id: (o.outcome, o.notes, o.by_id, o.at, o.corrects_id, o.reason)
        for o in outcome_model.objects.all()
    }
    no_show_end = Appointment.objects.get(pk=no_show.appointment_id).end
    assert rows == {
        held.pk: ("held", "Good fit.", therapist.pk, marked_at, None, ""),
        no_show.pk: ("no_show", "", None, no_show_end, None, ""),
    }
    assert booked.pk not in rows

    # A correction made after the migration is what going back keeps.
    outcome_model.objects.create(
        call_id=held.pk,
        outcome="held",
        notes="Good fit, corrected.",
        by_id=therapist.pk,
        at=marked_at + timedelta(hours=1),
        corrects_id=outcome_model.objects.get(call_id=held.pk).pk,
        reason="Typo",
    )
    old = migrate_intake(BEFORE_OUTCOMES)
    back = old.get_model("intake", "IntakeCall").objects.get(pk=held.pk)
    assert (back.notes, back.outcome_by_id, back.outcome_at) == (
        "Good fit, corrected.",
        therapist.pk,
        marked_at + timedelta(hours=1),
    )


def test_notes_on_a_call_never_marked_stop_the_migration_rather_than_vanish(at_0004, client_a):
    old_call(at_0004, Course.objects.get(client=client_a), "booked", notes="Written by hand.")
    with pytest.raises(RuntimeError, match="carry notes"):
        migrate_intake(OUTCOMES)
    # Nothing was dropped: the notes are still there to be dealt with.
    assert at_0004.get_model("intake", "IntakeCall").objects.get().notes == "Written by hand."
    at_0004.get_model("intake", "IntakeCall").objects.update(notes="")


BEFORE_DOUBLE_OPT_IN = ("intake", "0006_bookingrequest")
DOUBLE_OPT_IN = ("intake", "0007_interest_double_opt_in")


def test_registrations_made_before_double_opt_in_are_asked_to_confirm_once(clinic_qc):
    import hashlib

    from django.core import mail

    from clinic.models import OutboxMessage
    from clinic.outbox import outbox_sweep
    from intake import services
    from intake.models import InterestRegistration

    old = migrate_intake(BEFORE_DOUBLE_OPT_IN)
    try:
        registration = old.get_model("intake", "InterestRegistration")
        registration.objects.create(
            name="Sam (typed by someone)",
            email="Sam@Example.com",
            concern="chronic_pain",
            language="en",
            consent_to_contact=True,
            created_at=timezone.now() - timedelta(days=3),
        )
        registration.objects.create(
            name="Sam",
            email="sam@example.com",
            concern="chronic_pain",
            language="fr",
            consent_to_contact=True,
        )
        registration.objects.create(
            name="Lee",
            email="lee@example.com",
            concern="eating_disorder",
            clinic_id=clinic_qc.pk,
            language="en",
            consent_to_contact=True,
        )
        migrate_intake(DOUBLE_OPT_IN)
        migrate_intake(None)
        rows = {r.email: r for r in InterestRegistration.objects.all()}
        assert set(rows) == {"sam@example.com", "lee@example.com"}  # one per address, the latest
        assert rows["sam@example.com"].name == "Sam"
        for row in rows.values():
            assert not row.is_confirmed and row.consent_page == "/book/interest/"
            assert row.expires_at > timezone.now() + timedelta(days=6)
        messages = OutboxMessage.objects.filter(kind=services.INTEREST_CONFIRM)
        assert messages.count() == 2
        for message in messages:
            row = InterestRegistration.objects.get(uuid=message.payload["registration"])
            assert row.token_hash == hashlib.sha256(message.payload["token"].encode()).hexdigest()
        outbox_sweep()
        assert sorted(m.subject for m in mail.outbox) == [
            "Confirm your registration",
            "Confirmez votre inscription",
        ]
    finally:
        migrate_intake(None)
