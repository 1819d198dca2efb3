from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from clinic import access_log
from clinic.models import AccessLogArchive, AccessLogEntry


class Command(BaseCommand):
    help = (
        "Check the access log's hash chain (a changed or removed entry breaks it) and its "
        "anchored checkpoints (the newest entries removed no longer match them)."
    )

    def handle(self, *args, **options):
        # Months archived (archive_access_log) left the database: their own
        # hashes must follow one another, and the chain still here must start
        # from the last archived entry's hash.
        previous = ""
        for archive in AccessLogArchive.objects.order_by("month"):
            if archive.previous_hash != previous:
                raise CommandError(
                    _(
                        "The access log's archive does not follow on at %(month)s: its first "
                        "entry does not chain onto the month before."
                    )
                    % {"month": f"{archive.month:%Y-%m}"}
                )
            previous = archive.last_hash
        entries = access_log.chain_ordered(
            access_log.unarchived(AccessLogEntry.objects.all())
        ).iterator(chunk_size=2000)
        checked, broken = access_log.verify(entries, start_hash=previous)
        if broken is not None:
            raise CommandError(
                _(
                    "The access log has been altered: the chain breaks at entry %(id)s (after %(n)s good entries)."
                )
                % {"id": broken, "n": checked}
            )
        anchor = access_log.verify_anchors()
        if anchor is not None:
            raise CommandError(
                _(
                    "The access log has been cut short or altered: on %(at)s it ended at entry "
                    "%(id)s after %(count)s entries, and it no longer does."
                )
                % {"at": anchor.at, "id": anchor.last_id, "count": anchor.count}
            )
        self.stdout.write(
            self.style.SUCCESS(
                _("The access log is intact: %(n)s entries checked.") % {"n": checked}
            )
        )
