"""Back up the PostgreSQL database to one file (pg_dump's custom format).

    manage.py backup_database --output /backups/clinic-2026-11-27.dump

Restore with restore_database; README "Backups" says how often and where."""

import os
import subprocess  # nosec B404: runs pg_dump, with arguments from settings, never a shell

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def pg_environment(db: dict) -> dict:
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return env


def pg_connection_args(db: dict) -> list[str]:
    args = []
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if db.get(key):
            args += [flag, str(db[key])]
    return args


class Command(BaseCommand):
    help = "Back up the PostgreSQL database with pg_dump (custom format)."

    def add_arguments(self, parser):
        parser.add_argument("--output", required=True, help="The file to write.")

    def handle(self, *args, output, **options):
        db = settings.DATABASES["default"]
        if db["ENGINE"] != "django.db.backends.postgresql":
            raise CommandError(
                "Backups are for PostgreSQL; the embedded SQLite file can simply be copied."
            )
        command = [
            "pg_dump",
            "--format=custom",
            "--no-owner",
            "--file",
            output,
            *pg_connection_args(db),
            db["NAME"],
        ]
        result = subprocess.run(
            command, env=pg_environment(db), capture_output=True, text=True, check=False
        )  # nosec B603
        if result.returncode != 0:
            raise CommandError(f"pg_dump failed: {result.stderr.strip()}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Backed up {db['NAME']} to {output} ({os.path.getsize(output)} bytes)."
            )
        )
