"""Access-log entries are written unsealed by requests and sealed into the
chain by one sealer (clinic/access_log.py): a position (`seq`) and two indexes
(the chain's order and head; the few unsealed entries, by id).

The append-only trigger keeps its name and its function's name (the function
body is replaced here, nothing else): it still refuses every DELETE and every
UPDATE except the sealer's one transition of an unsealed row, which gives it
a position and hashes and changes nothing else.

Entries already in the log were chained by id, under a lock, with a hash that
does not cover a position: they get their position in id order and keep
their hashes, so their chain and the checkpoints written of it still verify
(verify() accepts that hash for the entries that come before the first one
sealed with a position)."""

from django.db import migrations, models

FUNCTION = """
CREATE OR REPLACE FUNCTION clinic_access_log_append_only() RETURNS trigger AS $$
BEGIN
    -- The sealer's transition: an unsealed entry given its place and hashes,
    -- every other column as it was.
    IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
       AND (to_jsonb(NEW) - 'seq' - 'previous_hash' - 'entry_hash')
           = (to_jsonb(OLD) - 'seq' - 'previous_hash' - 'entry_hash') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the access log is append-only';
END;
$$ LANGUAGE plpgsql;
"""
PREVIOUS_FUNCTION = """
CREATE OR REPLACE FUNCTION clinic_access_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the access log is append-only';
END;
$$ LANGUAGE plpgsql;
"""


def replace_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)


def restore_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PREVIOUS_FUNCTION)


def position_existing(apps, schema_editor):
    """Each existing entry's place is its rank by id (the order it was
    chained in); its hashes stay (the trigger lets this transition through)."""
    entry_model = apps.get_model("clinic", "AccessLogEntry")
    if schema_editor.connection.vendor == "postgresql":
        table = entry_model._meta.db_table
        schema_editor.execute(
            f"UPDATE {table} AS e SET seq = r.rank FROM "  # noqa: S608  # nosec B608: constant table name
            f"(SELECT id, row_number() OVER (ORDER BY id) AS rank FROM {table}) AS r "
            "WHERE e.id = r.id AND e.seq IS NULL"
        )
        return
    batch = []
    for rank, entry in enumerate(entry_model.objects.order_by("pk").only("pk"), start=1):
        entry.seq = rank
        batch.append(entry)
        if len(batch) == 2000:
            entry_model.objects.bulk_update(batch, ["seq"])
            batch = []
    entry_model.objects.bulk_update(batch, ["seq"])


class Migration(migrations.Migration):
    dependencies = [("clinic", "0018_staff_role_groups")]

    operations = [
        migrations.AddField(
            model_name="accesslogentry",
            name="seq",
            field=models.BigIntegerField(
                editable=False, null=True, verbose_name="position in the chain"
            ),
        ),
        migrations.AddIndex(
            model_name="accesslogentry",
            index=models.Index(fields=["seq"], name="accesslog_seq_idx"),
        ),
        migrations.AddIndex(
            model_name="accesslogentry",
            index=models.Index(
                condition=models.Q(("seq__isnull", True)),
                fields=["id"],
                name="accesslog_unsealed_idx",
            ),
        ),
        migrations.RunPython(replace_function, restore_function),
        migrations.RunPython(position_existing, migrations.RunPython.noop),
    ]
