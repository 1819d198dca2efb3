"""The access log becomes a table partitioned by month on `at` (PostgreSQL
only; SQLite keeps a plain table). See clinic/access_log_partitions.py.

Built from the table as it is, not from a column list, so it holds whatever
columns, indexes, foreign keys and triggers earlier migrations gave it:

- the old table is renamed away; its indexes, foreign keys and triggers are
  read from the catalogue first (pg_get_indexdef, pg_get_constraintdef,
  pg_get_triggerdef) and dropped from it, so their names are free;
- the new table is `LIKE` the old one (columns, defaults, identity, checks)
  `PARTITION BY RANGE (at)`, with the primary key (id, at): a partitioned
  table's unique keys must hold the partition key. Django's state keeps `id`
  as the primary key (nothing points to an access log entry; ids stay unique
  because one identity sequence gives them all);
- the indexes, foreign keys and triggers are created again on the parent
  (PostgreSQL clones them onto every partition, present and future). A
  unique index without `at` cannot exist on a partitioned table: it comes back
  as a plain index (there is none today);
- monthly partitions cover the existing rows and the months ahead, beside the
  DEFAULT partition; the rows are copied with their ids, the identity moved
  past the last id, and the old table dropped.

The reverse does the same into a plain table."""

from django.db import migrations

TABLE = "clinic_accesslogentry"
OLD = f"{TABLE}_unpartitioned"


def _rebuild(schema_editor, *, partitioned: bool) -> None:
    from clinic import access_log_partitions as parts

    cursor = schema_editor.connection.cursor()
    cursor.execute(
        "SELECT c.relkind FROM pg_class c WHERE c.relname = %s "
        "AND c.relnamespace = to_regnamespace(current_schema())",
        [TABLE],
    )
    if cursor.fetchone()[0] == ("p" if partitioned else "r"):
        return
    cursor.execute(
        "SELECT i.relname, pg_get_indexdef(x.indexrelid), x.indisunique "
        "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "WHERE x.indrelid = %s::regclass AND NOT x.indisprimary "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid "
        "AND k.conrelid = x.indrelid)",
        [TABLE],
    )
    indexes = cursor.fetchall()
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('f', 'u', 'p')",
        [TABLE],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger "
        "WHERE tgrelid = %s::regclass AND NOT tgisinternal AND tgparentid = 0",
        [TABLE],
    )
    triggers = cursor.fetchall()

    q = schema_editor.quote_name
    cursor.execute(f"ALTER TABLE {q(TABLE)} RENAME TO {q(OLD)}")
    for name, _definition in triggers:
        cursor.execute(f"DROP TRIGGER {q(name)} ON {q(OLD)}")
    for name, _definition, _kind in constraints:
        cursor.execute(f"ALTER TABLE {q(OLD)} DROP CONSTRAINT {q(name)}")
    for name, _definition, _unique in indexes:
        cursor.execute(f"DROP INDEX {q(name)}")

    like = f"LIKE {q(OLD)} INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS INCLUDING STORAGE"
    if partitioned:
        cursor.execute(f"CREATE TABLE {q(TABLE)} ({like}) PARTITION BY RANGE (at)")
        cursor.execute(f"ALTER TABLE {q(TABLE)} ADD CONSTRAINT {q(TABLE + '_pkey')} PRIMARY KEY (id, at)")
    else:
        cursor.execute(f"CREATE TABLE {q(TABLE)} ({like})")
        cursor.execute(f"ALTER TABLE {q(TABLE)} ADD CONSTRAINT {q(TABLE + '_pkey')} PRIMARY KEY (id)")
    # The definitions were read before the rename: they name the new table.
    for _name, definition, unique in indexes:
        if partitioned and unique and " (at" not in definition and ", at" not in definition:
            definition = definition.replace("CREATE UNIQUE INDEX", "CREATE INDEX", 1)
        cursor.execute(definition)
    for name, definition, kind in constraints:
        if kind == "p":
            continue
        if kind == "u" and partitioned and "at" not in definition:
            cols = definition.removeprefix("UNIQUE ")
            cursor.execute(f"CREATE INDEX {q(name)} ON {q(TABLE)} {cols}")
            continue
        cursor.execute(f"ALTER TABLE {q(TABLE)} ADD CONSTRAINT {q(name)} {definition}")

    if partitioned:
        cursor.execute(f"CREATE TABLE {q(parts.DEFAULT_PARTITION)} PARTITION OF {q(TABLE)} DEFAULT")
        cursor.execute(
            f"SELECT DISTINCT date_trunc('month', at AT TIME ZONE 'UTC')::date FROM {q(OLD)}"  # noqa: S608
        )
        for (month,) in cursor.fetchall():
            parts._create_partition(cursor, month)
    cursor.execute(
        f"INSERT INTO {q(TABLE)} OVERRIDING SYSTEM VALUE SELECT * FROM {q(OLD)}"  # noqa: S608
    )
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence(%s, 'id'), coalesce(max(id), 0) + 1, false) "
        f"FROM {q(TABLE)}",  # noqa: S608
        [TABLE],
    )
    cursor.execute(f"DROP TABLE {q(OLD)}")
    for _name, definition in triggers:
        cursor.execute(definition)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        _rebuild(schema_editor, partitioned=True)
        from clinic.access_log_partitions import partitions_ensure

        partitions_ensure()


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        _rebuild(schema_editor, partitioned=False)


class Migration(migrations.Migration):
    # Not atomic-sensitive: it runs in the migration's one transaction, so a
    # failure leaves the table as it was.
    dependencies = [("clinic", "0019_access_log_sealing")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
