"""An intake call's outcome becomes an append-only record (IntakeCallOutcome):
the first outcome, then each correction as a row of its own, instead of
notes and an author overwritten in place on the call.

Written by hand: the new table is created first, each call already marked
held or no-show gets its first outcome row from what the call held (its
appointment's status, its notes, who marked it and when), and only then
are the old columns dropped. Going back copies the current outcome onto the
call again."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

MARKED = ("held", "no_show")


def outcomes_from_calls(apps, schema_editor):
    intake_call = apps.get_model("intake", "IntakeCall")
    outcome_model = apps.get_model("intake", "IntakeCallOutcome")
    # Notes were only ever written with a mark; notes on a call never marked
    # would have nowhere to go, and a clinical note is never dropped silently.
    stray = intake_call.objects.exclude(appointment__status__in=MARKED).exclude(notes="")
    if stray.exists():
        raise RuntimeError(
            "Intake calls not marked held or no-show carry notes (ids %s): mark them or move "
            "the notes before migrating." % list(stray.values_list("pk", flat=True)[:20])
        )
    rows = [
        outcome_model(
            call_id=call.pk,
            outcome=call.appointment.status,
            notes=call.notes,
            by_id=call.outcome_by_id,
            # Calls marked before 0004 kept no time: the end of the call is
            # the earliest it can have been recorded.
            at=call.outcome_at or call.appointment.end,
        )
        for call in intake_call.objects.filter(appointment__status__in=MARKED)
        .select_related("appointment")
        .iterator(chunk_size=2000)
    ]
    outcome_model.objects.bulk_create(rows, batch_size=2000)


def calls_from_outcomes(apps, schema_editor):
    intake_call = apps.get_model("intake", "IntakeCall")
    outcome_model = apps.get_model("intake", "IntakeCallOutcome")
    corrected = set(
        outcome_model.objects.exclude(corrects=None).values_list("corrects_id", flat=True)
    )
    for outcome in outcome_model.objects.order_by("pk").iterator():
        if outcome.pk in corrected:
            continue  # an earlier link of the chain: the call takes the last one
        intake_call.objects.filter(pk=outcome.call_id).update(
            notes=outcome.notes, outcome_by_id=outcome.by_id, outcome_at=outcome.at
        )


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0004_intakecall_outcome_by_at"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="IntakeCallOutcome",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("outcome", models.CharField(choices=[("held", "held"), ("no_show", "no-show")], max_length=10, verbose_name="outcome")),
                ("notes", models.TextField(blank=True, verbose_name="notes")),
                ("at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="recorded at")),
                ("reason", models.TextField(blank=True, verbose_name="why it was corrected")),
                ("by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="recorded by")),
                ("call", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="outcomes", to="intake.intakecall", verbose_name="intake call")),
                ("corrects", models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="correction", to="intake.intakecalloutcome", verbose_name="corrects")),
            ],
            options={
                "verbose_name": "intake call outcome",
                "verbose_name_plural": "intake call outcomes",
                "ordering": ["pk"],
                "constraints": [
                    models.UniqueConstraint(condition=models.Q(("corrects__isnull", True)), fields=("call",), name="intake_outcome_recorded_once"),
                    models.CheckConstraint(condition=models.Q(("corrects__isnull", True), models.Q(("reason", ""), _negated=True), _connector="OR"), name="intake_outcome_correction_has_reason"),
                ],
            },
        ),
        migrations.RunPython(outcomes_from_calls, calls_from_outcomes),
        migrations.RemoveField(model_name="intakecall", name="notes"),
        migrations.RemoveField(model_name="intakecall", name="outcome_at"),
        migrations.RemoveField(model_name="intakecall", name="outcome_by"),
    ]
