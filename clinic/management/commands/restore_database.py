"""Restore a backup made by backup_database into a database (new or empty).

    manage.py restore_database --input clinic.dump --database clinic_restored

It refuses to restore over the database the app is using: restore into a new
one, check it, then point DATABASE_URL at it."""

import subprocess  # nosec B404: runs createdb and pg_restore, never a shell

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from .backup_database import pg_connection_args, pg_environment


class Command(BaseCommand):
    help = "Restore a backup_database file into a new PostgreSQL database."

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
        env = pg_environment(db)
        connection_args = pg_connection_args(db)
        subprocess.run(
            ["createdb", *connection_args, database], env=env, capture_output=True, check=False
        )  # nosec B603 B607
        result = subprocess.run(  # nosec B603 B607
            [
                "pg_restore",
                "--no-owner",
                "--exit-on-error",
                *connection_args,
                "--dbname",
                database,
                input,
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise CommandError(f"pg_restore failed: {result.stderr.strip()}")
        self.stdout.write(self.style.SUCCESS(f"Restored {input} into {database}."))
