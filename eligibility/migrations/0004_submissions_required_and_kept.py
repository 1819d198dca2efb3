"""Every decision is made on a submission, one decision per submission, and
a submission is append-only at the database level on PostgreSQL (a trigger
refuses UPDATE and DELETE, whoever issues them). A migration of its own:
PostgreSQL will not alter a table whose rows the data step just updated in
the same transaction."""

import django.db.models.deletion
from django.db import migrations, models

FUNCTION = """
CREATE OR REPLACE FUNCTION eligibility_submission_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'a sent screening is append-only';
END;
$$ LANGUAGE plpgsql;
"""
TRIGGER = """
CREATE TRIGGER eligibility_submission_append_only
BEFORE UPDATE OR DELETE ON eligibility_screeningsubmission
FOR EACH ROW EXECUTE FUNCTION eligibility_submission_append_only();
"""


def add_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)
        schema_editor.execute(TRIGGER)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "DROP TRIGGER IF EXISTS eligibility_submission_append_only "
            "ON eligibility_screeningsubmission"
        )
        schema_editor.execute("DROP FUNCTION IF EXISTS eligibility_submission_append_only()")


class Migration(migrations.Migration):
    dependencies = [("eligibility", "0003_screening_submissions")]

    operations = [
        migrations.AlterField(
            model_name="decision",
            name="submission",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="decisions", to="eligibility.screeningsubmission", verbose_name="made on submission"),
        ),
        migrations.AddConstraint(
            model_name="decision",
            constraint=models.UniqueConstraint(fields=("submission",), name="decision_one_per_submission"),
        ),
        migrations.RunPython(add_trigger, drop_trigger),
    ]
