from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from clinic import access_log
from clinic.models import AccessLogArchive, AccessLogEntry


class Command(BaseCommand):
    help = (
        "Check the access log's hash chain in its order (a changed, removed or moved entry "
        "breaks it), its anchored checkpoints (the newest entries removed no longer match "
        "them), and that no entry has waited unsealed past the grace."
    )

    def handle(self, *args, **options):
        problems = []
        # Months archived (archive_access_log) left the database: their own
        # hashes must follow one another, and the chain still here must start
        # from the last archived entry's hash and position.
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
        checked, broken = access_log.verify(
            entries, start_hash=previous, start_position=access_log.archived_through() or 0
        )
        if broken is not None:
            problems.append(
                _(
                    "The access log has been altered: the chain breaks at entry %(id)s (after %(n)s good entries)."
                )
                % {"id": broken, "n": checked}
            )
        anchor = access_log.verify_anchors()
        if anchor is not None:
            problems.append(
                _(
                    "The access log has been cut short or altered: on %(at)s it ended at entry "
                    "%(id)s after %(count)s entries, and it no longer does."
                )
                % {"at": anchor.at, "id": anchor.last_id, "count": anchor.count}
            )
        overdue, oldest = access_log.unsealed_overdue()
        if overdue:
            problems.append(
                _(
                    "%(n)s access-log entries have waited unsealed for more than %(grace)s "
                    "seconds, the oldest written on %(oldest)s: is the sealer (the Celery "
                    "worker's beat) running?"
                )
                % {
                    "n": overdue,
                    "grace": settings.ACCESS_LOG_SEAL_GRACE_SECONDS,
                    "oldest": oldest.isoformat() if oldest else "",
                }
            )
        if problems:
            raise CommandError("\n".join(problems))
        self.stdout.write(
            self.style.SUCCESS(
                _("The access log is intact: %(n)s entries checked.") % {"n": checked}
            )
        )
