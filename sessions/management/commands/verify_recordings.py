from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from sessions.services.recordings import recordings_verify


class Command(BaseCommand):
    help = (
        "Re-read every kept session recording from its storage and compare its size and "
        "SHA-256 with those taken at upload: reports missing and altered files (exit code 1)."
    )

    def handle(self, *args, **options):
        checked = 0
        problems = 0
        for recording, verdict, size in recordings_verify():
            checked += 1
            if verdict == "ok":
                continue
            problems += 1
            # The recording's id and stored name only: nothing about the client.
            if verdict == "missing":
                line = _("MISSING: recording %(id)s (stored as %(name)s) is not in storage.")
            elif size != recording.size:
                line = _(
                    "ALTERED: recording %(id)s (stored as %(name)s) has %(size)s bytes "
                    "instead of %(expected)s."
                )
            else:
                line = _(
                    "ALTERED: recording %(id)s (stored as %(name)s): its SHA-256 differs "
                    "from the one taken at upload."
                )
            self.stderr.write(
                line
                % {
                    "id": recording.uuid,
                    "name": recording.storage_name,
                    "size": size,
                    "expected": recording.size,
                }
            )
        if problems:
            raise CommandError(
                _("%(problems)s of %(checked)s kept recordings are missing or altered.")
                % {"problems": problems, "checked": checked}
            )
        self.stdout.write(
            self.style.SUCCESS(
                _("Every kept recording is intact: %(checked)s checked.") % {"checked": checked}
            )
        )
