"""The review queue as it opens (sent screenings, crisis first, then the
oldest, the admin's -pk tie-break last): a partial index that gives its rows
in order and its capped count without reading the drafts or the table."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("eligibility", "0004_submissions_required_and_kept"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="screening",
            index=models.Index(
                condition=models.Q(("status", "submitted")),
                fields=["clinic", "-crisis_flag", "submitted_at", "-id"],
                name="screening_sent_queue_idx",
            ),
        ),
    ]
