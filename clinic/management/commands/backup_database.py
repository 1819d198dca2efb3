"""Back up the PostgreSQL database to one file (pg_dump's custom format).

    manage.py backup_database --output /backups/clinic-2026-11-27.dump

The file is readable by its owner only (0600) from the moment it exists, and
appears under its name only once complete. With BACKUP_ENCRYPTION_KEY set it
is encrypted as it is written (clinic/backup_crypto.py). Restore with
restore_database; README "Backups" says how often and where."""

import os
import shutil
import subprocess  # nosec B404: runs pg_dump, with arguments from settings, never a shell
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from clinic import backup_crypto


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


def encryption_key() -> bytes | None:
    """The key from BACKUP_ENCRYPTION_KEY, or None when it is not set."""
    text = getattr(settings, "BACKUP_ENCRYPTION_KEY", "")
    if not text:
        return None
    try:
        return backup_crypto.parse_key(text)
    except backup_crypto.BackupKeyError as exc:
        raise CommandError(str(exc)) from exc


class Command(BaseCommand):
    help = "Back up the PostgreSQL database with pg_dump (custom format), encrypted when BACKUP_ENCRYPTION_KEY is set."

    def add_arguments(self, parser):
        parser.add_argument("--output", help="The file to write.")
        parser.add_argument(
            "--generate-key",
            action="store_true",
            help="Print a new key for BACKUP_ENCRYPTION_KEY and stop.",
        )

    def handle(self, *args, output, generate_key, **options):
        if generate_key:
            self.stdout.write(backup_crypto.generate_key())
            return
        if not output:
            raise CommandError("Give the file to write: --output PATH.")
        db = settings.DATABASES["default"]
        if connection.vendor != "postgresql":  # the engine's name may be a subclass's (tests)
            raise CommandError(
                "Backups are for PostgreSQL; the embedded SQLite file can simply be copied."
            )
        key = encryption_key()
        target = Path(output)
        if not target.parent.is_dir():
            raise CommandError(f"No directory {target.parent} to write the backup in.")
        # mkstemp creates the file 0600, whatever the umask: the dump is never
        # readable by others, not even while it is being written. It gets its
        # name only when complete, so a failed run leaves no half backup.
        try:
            handle, partial = tempfile.mkstemp(
                dir=target.parent, prefix=f".{target.name}.", suffix=".partial"
            )
        except OSError as exc:
            raise CommandError(f"Cannot write in {target.parent}: {exc.strerror}.") from exc
        try:
            with os.fdopen(handle, "wb") as sink:
                self._dump(db, sink, key)
                sink.flush()
                os.fsync(sink.fileno())
            os.replace(partial, target)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
        how = "encrypted" if key else "not encrypted: BACKUP_ENCRYPTION_KEY is not set"
        self.stdout.write(
            self.style.SUCCESS(
                f"Backed up {db['NAME']} to {target} ({target.stat().st_size} bytes, {how})."
            )
        )

    def _dump(self, db, sink, key) -> None:
        command = ["pg_dump", "--format=custom", "--no-owner", *pg_connection_args(db), db["NAME"]]
        with tempfile.TemporaryFile() as errors:
            # pg_dump writes to a pipe that is read as it comes: encrypted on
            # the way, and never held whole in memory.
            process = subprocess.Popen(  # nosec B603
                command, stdout=subprocess.PIPE, stderr=errors, env=pg_environment(db)
            )
            try:
                if key:
                    backup_crypto.encrypt_stream(process.stdout, sink, key)
                else:
                    shutil.copyfileobj(process.stdout, sink, backup_crypto.CHUNK_BYTES)
            finally:
                process.stdout.close()
                returncode = process.wait()
            if returncode != 0:
                errors.seek(0)
                message = errors.read().decode(errors="replace").strip()
                raise CommandError(f"pg_dump failed: {message}")
