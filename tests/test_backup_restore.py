"""The backup and restore pair: round-tripped into a scratch database with
the row counts of every table compared, plain and encrypted; the file is
its owner's only; a restore refuses a wrong key, a damaged file and a
database that already has tables, before it touches anything."""

import os
import stat

import psycopg
import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection

from clinic import access_log, backup_crypto
from intake.tests.factories import held_intake_call

KEY = backup_crypto.generate_key()


def _counts(cursor) -> dict:
    counts = {}
    for model in apps.get_models():
        table = model._meta.db_table
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # table names from the app's own models  # noqa: S608
        counts[table] = cursor.fetchone()[0]
    return counts


def _admin_dsn(dbname="postgres") -> str:
    db = connection.settings_dict
    return f"host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} user={db['USER'] or 'root'} dbname={dbname}"


@pytest.fixture
def scratch():
    """A scratch database named after the test database, so that parallel
    runs (each with its own test database) never share one."""
    name = f"{connection.settings_dict['NAME']}_restore_check"
    with psycopg.connect(_admin_dsn(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    yield name
    with psycopg.connect(_admin_dsn(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _scratch_exists(name) -> bool:
    with psycopg.connect(_admin_dsn(), autocommit=True) as conn:
        return (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            is not None
        )


@pytest.fixture
def loose_umask():
    """The usual umask, under which a plain open() makes a file others can read."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _some_data(client_a, therapist):
    held_intake_call(client_a.courses.get(), therapist)
    access_log.access_log_record(actor=therapist, client=client_a, obj=client_a)


def _assert_same_rows(scratch):
    with connection.cursor() as cursor:
        original = _counts(cursor)
    with psycopg.connect(_admin_dsn(scratch)) as restored, restored.cursor() as cursor:
        copy = _counts(cursor)
    assert copy == original
    assert original["clinic_accesslogentry"] == 1 and original["intake_intakecall"] == 1


@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_into_a_new_database_with_every_row(
    tmp_path, client_a, therapist, scratch, loose_umask, settings
):
    settings.BACKUP_ENCRYPTION_KEY = ""
    _some_data(client_a, therapist)
    dump = tmp_path / "clinic.dump"
    call_command("backup_database", output=str(dump))
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600
    assert dump.read_bytes().startswith(b"PGDMP")
    assert [p.name for p in tmp_path.iterdir()] == ["clinic.dump"]  # no partial file left
    call_command("restore_database", input=str(dump), database=scratch)
    _assert_same_rows(scratch)


@pytest.mark.django_db(transaction=True)
def test_an_encrypted_backup_restores_with_its_key(
    tmp_path, client_a, therapist, scratch, loose_umask, settings
):
    settings.BACKUP_ENCRYPTION_KEY = KEY
    _some_data(client_a, therapist)
    dump = tmp_path / "clinic.dump"
    call_command("backup_database", output=str(dump))
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600
    content = dump.read_bytes()
    assert content.startswith(backup_crypto.MAGIC) and b"PGDMP" not in content
    assert client_a.user.email.encode() not in content
    call_command("restore_database", input=str(dump), database=scratch)
    _assert_same_rows(scratch)


@pytest.mark.django_db(transaction=True)
def test_the_backup_file_is_made_private_from_the_start(tmp_path, loose_umask, settings):
    """Replacing an older backup of the same name, left readable by all,
    gives a private file too."""
    settings.BACKUP_ENCRYPTION_KEY = ""
    dump = tmp_path / "clinic.dump"
    dump.write_bytes(b"an older backup")
    dump.chmod(0o644)
    call_command("backup_database", output=str(dump))
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600


@pytest.mark.django_db(transaction=True)
def test_a_restore_without_the_key_or_with_another_is_refused_before_anything(
    tmp_path, scratch, settings
):
    settings.BACKUP_ENCRYPTION_KEY = KEY
    dump = tmp_path / "clinic.dump"
    call_command("backup_database", output=str(dump))
    settings.BACKUP_ENCRYPTION_KEY = ""
    with pytest.raises(CommandError, match="is encrypted: set BACKUP_ENCRYPTION_KEY"):
        call_command("restore_database", input=str(dump), database=scratch)
    settings.BACKUP_ENCRYPTION_KEY = backup_crypto.generate_key()
    with pytest.raises(CommandError, match="not the key this backup was written with"):
        call_command("restore_database", input=str(dump), database=scratch)
    settings.BACKUP_ENCRYPTION_KEY = "not-a-key"
    with pytest.raises(CommandError, match="32 random bytes"):
        call_command("restore_database", input=str(dump), database=scratch)
    assert not _scratch_exists(scratch)


@pytest.mark.django_db(transaction=True)
def test_a_cut_short_or_changed_backup_restores_nothing(tmp_path, scratch, settings):
    settings.BACKUP_ENCRYPTION_KEY = KEY
    dump = tmp_path / "clinic.dump"
    call_command("backup_database", output=str(dump))
    content = dump.read_bytes()
    damaged = tmp_path / "damaged.dump"
    for broken in (content[:-1], content[: len(content) // 2], content[:-40] + content[-39:]):
        damaged.write_bytes(broken)
        with pytest.raises(CommandError, match="damaged|cut short"):
            call_command("restore_database", input=str(damaged), database=scratch)
    assert not _scratch_exists(scratch)


@pytest.mark.django_db(transaction=True)
def test_a_plain_backup_cut_short_leaves_no_half_restored_database(tmp_path, scratch, settings):
    settings.BACKUP_ENCRYPTION_KEY = ""
    dump = tmp_path / "clinic.dump"
    call_command("backup_database", output=str(dump))
    dump.write_bytes(dump.read_bytes()[:-100])
    with pytest.raises(CommandError, match="pg_restore failed"):
        call_command("restore_database", input=str(dump), database=scratch)
    assert not _scratch_exists(scratch)


@pytest.mark.django_db(transaction=True)
def test_a_restore_into_a_database_with_tables_is_refused_and_changes_nothing(
    tmp_path, scratch, settings
):
    settings.BACKUP_ENCRYPTION_KEY = ""
    dump = tmp_path / "clinic.dump"
    call_command("backup_database", output=str(dump))
    with psycopg.connect(_admin_dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{scratch}"')
    with psycopg.connect(_admin_dsn(scratch), autocommit=True) as conn:
        conn.execute("CREATE TABLE live_data (note text)")
        conn.execute("INSERT INTO live_data VALUES ('kept')")
    with pytest.raises(CommandError, match="already has tables"):
        call_command("restore_database", input=str(dump), database=scratch)
    with psycopg.connect(_admin_dsn(scratch), autocommit=True) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
        assert tables == [("live_data",)]
        assert conn.execute("SELECT note FROM live_data").fetchall() == [("kept",)]


@pytest.mark.django_db(transaction=True)
def test_a_restore_into_an_empty_existing_database_goes_ahead(
    tmp_path, client_a, therapist, scratch, settings
):
    settings.BACKUP_ENCRYPTION_KEY = ""
    _some_data(client_a, therapist)
    dump = tmp_path / "clinic.dump"
    call_command("backup_database", output=str(dump))
    with psycopg.connect(_admin_dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{scratch}"')
    call_command("restore_database", input=str(dump), database=scratch)
    _assert_same_rows(scratch)


@pytest.mark.django_db
def test_restoring_over_the_database_in_use_is_refused():
    with pytest.raises(CommandError, match="Refusing"):
        call_command("restore_database", input="x.dump", database=connection.settings_dict["NAME"])


@pytest.mark.django_db
def test_a_file_that_is_not_a_backup_is_refused(tmp_path, scratch):
    other = tmp_path / "notes.txt"
    other.write_text("not a dump")
    with pytest.raises(CommandError, match="not a backup made by backup_database"):
        call_command("restore_database", input=str(other), database=scratch)
    with pytest.raises(CommandError, match="Cannot read the backup"):
        call_command("restore_database", input=str(tmp_path / "missing.dump"), database=scratch)


def test_it_prints_a_new_key_to_use(capsys):
    call_command("backup_database", generate_key=True)
    key = capsys.readouterr().out.strip()
    assert len(backup_crypto.parse_key(key)) == 32
