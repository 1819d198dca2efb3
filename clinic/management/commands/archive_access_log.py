"""Archive closed months of the access log for the privacy officer.

    manage.py archive_access_log --month 2024-11
    manage.py archive_access_log --due

Each month is exported to ACCESS_LOG_ARCHIVE_DIR as gzip'd JSON lines with a
.sha256 beside it, read back and checked, and only then detached from the
database (clinic/access_log_archive.py). --due archives, oldest first, every
month older than ACCESS_LOG_RETENTION_MONTHS."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from clinic.access_log_archive import ArchiveRefused, archive_dir, archive_month, months_due


def parse_month(text: str) -> date:
    try:
        year, month = text.split("-")
        return date(int(year), int(month), 1)
    except ValueError as exc:
        raise CommandError(_("Give the month as YYYY-MM, e.g. 2024-11.")) from exc


class Command(BaseCommand):
    help = (
        "Export a closed month of the access log to a compressed, checksummed file, "
        "check it, then detach the month from the database."
    )

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--month", help="YYYY-MM")
        which.add_argument(
            "--due",
            action="store_true",
            help="every month older than ACCESS_LOG_RETENTION_MONTHS, oldest first",
        )

    def handle(self, *args, month, due, **options):
        months = months_due() if due else [parse_month(month)]
        if not months:
            self.stdout.write(_("No month of the access log is due for the archive."))
            return
        for each in months:
            try:
                archive = archive_month(month=each)
            except ArchiveRefused as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(
                self.style.SUCCESS(
                    _(
                        "%(month)s archived: %(rows)s entries in %(file)s (SHA-256 %(sha)s); "
                        "the month is no longer in the database."
                    )
                    % {
                        "month": f"{each:%Y-%m}",
                        "rows": archive.rows,
                        "file": archive_dir() / archive.file_name,
                        "sha": archive.sha256,
                    }
                )
            )
