from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from clinic import access_log
from clinic.models import AccessLogEntry


class Command(BaseCommand):
    help = (
        "Check the access log's hash chain (a changed or removed entry breaks it) and its "
        "anchored checkpoints (the newest entries removed no longer match them)."
    )

    def handle(self, *args, **options):
        entries = AccessLogEntry.objects.order_by("pk").iterator(chunk_size=2000)
        checked, broken = access_log.verify(entries)
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
