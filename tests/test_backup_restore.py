"""The backup and restore pair, round-tripped into a scratch database with
the row counts of every table compared."""

import psycopg
import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from clinic import access_log
from intake.tests.factories import held_intake_call

SCRATCH = "clinic_restore_check"


def _counts(cursor) -> dict:
    counts = {}
    for model in apps.get_models():
        table = model._meta.db_table
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # table names from the app's own models  # noqa: S608
        counts[table] = cursor.fetchone()[0]
    return counts


@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_into_a_new_database_with_every_row(tmp_path, client_a, therapist):
    held_intake_call(client_a.courses.get(), therapist)
    access_log.access_log_record(actor=therapist, client=client_a, obj=client_a)
    dump = tmp_path / "clinic.dump"
    db = connection.settings_dict
    admin = f"host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} user={db['USER'] or 'root'} dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{SCRATCH}"')
    try:
        call_command("backup_database", output=str(dump))
        assert dump.stat().st_size > 0
        call_command("restore_database", input=str(dump), database=SCRATCH)
        with connection.cursor() as cursor:
            original = _counts(cursor)
        with (
            psycopg.connect(admin.replace("dbname=postgres", f"dbname={SCRATCH}")) as restored,
            restored.cursor() as cursor,
        ):
            copy = _counts(cursor)
        assert copy == original
        assert original["clinic_accesslogentry"] == 1 and original["intake_intakecall"] == 1
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)')


@pytest.mark.django_db
def test_restoring_over_the_database_in_use_is_refused():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="Refusing"):
        call_command("restore_database", input="x.dump", database=connection.settings_dict["NAME"])
