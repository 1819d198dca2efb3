"""Restore a backup made by backup_database into a database (new or empty).

    manage.py restore_database --input clinic.dump --database clinic_restored

It refuses, before it touches anything, to restore over the database the
app is using or into any database that already has tables: restore into a
new one, check it, then point DATABASE_URL at it. An encrypted backup needs
BACKUP_ENCRYPTION_KEY; it is decrypted and checked whole (into a file only
its owner reads) before the restore starts, so a damaged or cut-short file
restores nothing."""

import os
import subprocess  # nosec B404: runs createdb and pg_restore, never a shell
import tempfile
from contextlib import contextmanager
from pathlib import Path

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from clinic import backup_crypto

from .backup_database import encryption_key, pg_connection_args, pg_environment

PG_DUMP_MAGIC = b"PGDMP"  # the first bytes of pg_dump's custom format


def _connect(db: dict, database: str):
    params = {"dbname": database, "connect_timeout": 10}
    for param, key in (
        ("host", "HOST"),
        ("port", "PORT"),
        ("user", "USER"),
        ("password", "PASSWORD"),
    ):
        if db.get(key):
            params[param] = str(db[key])
    return psycopg.connect(autocommit=True, **params)


def database_exists(db: dict, database: str) -> bool:
    with _connect(db, db["NAME"]) as conn:
        return (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
            is not None
        )


def has_public_tables(db: dict, database: str) -> bool:
    """Any table, view or sequence in the public schema, where a restore
    would write: a restore must never mix a backup into live data."""
    with _connect(db, database) as conn:
        return conn.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f'))"
        ).fetchone()[0]


class Command(BaseCommand):
    help = "Restore a backup_database file into a new (or empty) PostgreSQL database."

    def add_arguments(self, parser):
        parser.add_argument("--input", required=True, help="The backup file.")
        parser.add_argument(
            "--database", required=True, help="The database to restore into (created if missing)."
        )

    def handle(self, *args, input, database, **options):
        db = settings.DATABASES["default"]
        if database == db["NAME"]:
            raise CommandError(
                "Refusing to restore over the database in use: restore into a new one."
            )
        source = Path(input)
        try:
            with source.open("rb") as file:
                first_bytes = file.read(len(backup_crypto.MAGIC))
        except OSError as exc:
            raise CommandError(f"Cannot read the backup {source}: {exc.strerror}.") from exc
        encrypted = backup_crypto.is_encrypted(first_bytes)
        if not encrypted and not first_bytes.startswith(PG_DUMP_MAGIC):
            raise CommandError(f"{source} is not a backup made by backup_database.")
        exists = database_exists(db, database)
        if exists and has_public_tables(db, database):
            raise CommandError(
                f"Refusing to restore into {database}: it already has tables. "
                "Restore into a new database."
            )
        with self._plain_backup(source, encrypted) as plain:
            env = pg_environment(db)
            connection_args = pg_connection_args(db)
            if not exists:
                created = subprocess.run(  # nosec B603 B607
                    ["createdb", *connection_args, database],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if created.returncode != 0:
                    raise CommandError(f"createdb failed: {created.stderr.strip()}")
            result = subprocess.run(  # nosec B603 B607
                [
                    "pg_restore",
                    "--no-owner",
                    "--exit-on-error",
                    *connection_args,
                    "--dbname",
                    database,
                    str(plain),
                ],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0 and not exists:
                # A half-restored database must not pass for a good copy: drop
                # the one this run created. One that existed (empty) is not
                # this command's to drop; the error says the restore failed.
                subprocess.run(  # nosec B603 B607
                    ["dropdb", "--if-exists", *connection_args, database],
                    env=env,
                    capture_output=True,
                    check=False,
                )
        if result.returncode != 0:
            raise CommandError(f"pg_restore failed: {result.stderr.strip()}")
        self.stdout.write(self.style.SUCCESS(f"Restored {source} into {database}."))

    @contextmanager
    def _plain_backup(self, source: Path, encrypted: bool):
        """The backup as pg_restore reads it: the file itself, or, when
        encrypted, a decrypted copy that only its owner can read (mkstemp
        makes it 0600), checked to the end, removed afterwards."""
        if not encrypted:
            yield source
            return
        key = encryption_key()
        if key is None:
            raise CommandError(
                f"{source} is encrypted: set BACKUP_ENCRYPTION_KEY to the key it was written with."
            )
        handle, plain = tempfile.mkstemp(prefix="clinic-restore-", suffix=".dump")
        try:
            with source.open("rb") as encrypted_file, os.fdopen(handle, "wb") as sink:
                backup_crypto.decrypt_stream(encrypted_file, sink, key)
            yield Path(plain)
        except (backup_crypto.BackupKeyError, backup_crypto.BackupDamagedError) as exc:
            raise CommandError(f"Cannot restore {source}: {exc}") from exc
        finally:
            Path(plain).unlink(missing_ok=True)
