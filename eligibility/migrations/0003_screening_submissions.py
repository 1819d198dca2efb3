"""Each sending of a screening is kept as it was sent (ScreeningSubmission),
and each decision points to the sending it was made on.

Screenings sent before this kept only their latest answers: a resubmission
after "more information" overwrote the earlier ones. So each decision made
before the latest sending (each "more information") gets a submission of its
own whose answers were not kept (NULL), and the answers the screening holds
now become the latest submission, which the decisions made since point to.
A draft reopened by "more information" is not a sending: its decisions point
to the earlier sendings."""

import django.db.models.deletion
from django.db import migrations, models


def split_into_submissions(apps, schema_editor):
    screening_model = apps.get_model("eligibility", "Screening")
    submission_model = apps.get_model("eligibility", "ScreeningSubmission")
    decision_model = apps.get_model("eligibility", "Decision")
    screenings = screening_model.objects.filter(
        models.Q(status="submitted") | models.Q(decisions__isnull=False)
    ).distinct()
    for screening in screenings.order_by("pk").iterator():
        decisions = list(decision_model.objects.filter(screening=screening).order_by("at", "pk"))
        sent = screening.status == "submitted"
        earlier = [d for d in decisions if not sent or d.at < screening.submitted_at]
        previous = None
        for number, decision in enumerate(earlier, start=1):
            previous = submission_model.objects.create(
                screening=screening,
                number=number,
                previous=previous,
                answers=None,
                rules_version=screening.rules_version,
            )
            decision_model.objects.filter(pk=decision.pk).update(submission=previous)
        if not sent:
            continue
        latest = submission_model.objects.create(
            screening=screening,
            number=len(earlier) + 1,
            previous=previous,
            answers=screening.answers,
            rules_version=screening.rules_version,
            outcome=screening.outcome,
            reasons=screening.reasons,
            phq9_score=screening.phq9_score,
            gad7_score=screening.gad7_score,
            crisis_flag=screening.crisis_flag
            and screening.crisis_at is not None
            and screening.crisis_at <= screening.submitted_at,
            submitted_at=screening.submitted_at,
        )
        decision_model.objects.filter(
            pk__in=[d.pk for d in decisions if d not in earlier]
        ).update(submission=latest)


class Migration(migrations.Migration):
    dependencies = [("eligibility", "0002_page_indexes")]

    operations = [
        migrations.CreateModel(
            name="ScreeningSubmission",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("number", models.PositiveSmallIntegerField(verbose_name="number")),
                ("answers", models.JSONField(blank=True, null=True, verbose_name="answers")),
                ("rules_version", models.CharField(max_length=20, verbose_name="rules version")),
                ("outcome", models.CharField(blank=True, choices=[("likely_eligible", "likely eligible"), ("needs_review", "needs review"), ("not_eligible", "not eligible")], max_length=20, verbose_name="automatic outcome")),
                ("reasons", models.JSONField(blank=True, default=list, verbose_name="reasons")),
                ("phq9_score", models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="PHQ-9 score")),
                ("gad7_score", models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="GAD-7 score")),
                ("crisis_flag", models.BooleanField(default=False, verbose_name="risk of self-harm signalled when sent")),
                ("submitted_at", models.DateTimeField(blank=True, null=True, verbose_name="sent at")),
                ("previous", models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="next", to="eligibility.screeningsubmission", verbose_name="previous submission")),
                ("screening", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="submissions", to="eligibility.screening", verbose_name="screening")),
            ],
            options={
                "verbose_name": "screening submission",
                "verbose_name_plural": "screening submissions",
                "ordering": ["screening", "number"],
                "constraints": [
                    models.UniqueConstraint(fields=("screening", "number"), name="screening_submission_number_unique"),
                    models.CheckConstraint(condition=models.Q(models.Q(("number", 1), ("previous__isnull", True)), models.Q(("number__gt", 1), ("previous__isnull", False)), _connector="OR"), name="screening_submission_chain"),
                    models.CheckConstraint(condition=models.Q(("answers__isnull", True), models.Q(("outcome__gt", ""), ("submitted_at__isnull", False)), _connector="OR"), name="screening_submission_sent_has_outcome"),
                ],
            },
        ),
        migrations.AddField(
            model_name="decision",
            name="submission",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name="decisions", to="eligibility.screeningsubmission", verbose_name="made on submission"),
        ),
        migrations.RunPython(split_into_submissions, migrations.RunPython.noop),
    ]
