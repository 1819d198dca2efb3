"""The access log is append-only at the database level on PostgreSQL: a
trigger refuses UPDATE and DELETE, whoever issues them (the app, the admin,
a shell). Entries written before the hash chain existed are chained first."""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION clinic_access_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the access log is append-only';
END;
$$ LANGUAGE plpgsql;
"""
TRIGGER = """
CREATE TRIGGER clinic_access_log_append_only
BEFORE UPDATE OR DELETE ON clinic_accesslogentry
FOR EACH ROW EXECUTE FUNCTION clinic_access_log_append_only();
"""


def chain_existing(apps, schema_editor):
    from clinic.access_log import entry_hash

    entry_model = apps.get_model("clinic", "AccessLogEntry")
    previous = ""
    for entry in entry_model.objects.order_by("pk"):
        entry.previous_hash = previous
        entry.entry_hash = entry_hash(entry)
        entry.save(update_fields=["previous_hash", "entry_hash"])
        previous = entry.entry_hash


def add_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)
        schema_editor.execute(TRIGGER)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS clinic_access_log_append_only ON clinic_accesslogentry")
        schema_editor.execute("DROP FUNCTION IF EXISTS clinic_access_log_append_only()")


class Migration(migrations.Migration):
    dependencies = [("clinic", "0008_access_log_chain")]

    operations = [
        migrations.RunPython(chain_existing, migrations.RunPython.noop),
        migrations.RunPython(add_trigger, drop_trigger),
    ]
