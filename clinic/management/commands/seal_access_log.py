from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from clinic.access_log import access_log_seal


class Command(BaseCommand):
    help = (
        "Seal the access-log entries written since the last run into the hash chain "
        "(beat does this every few seconds; nothing happens while another sealer runs)."
    )

    def handle(self, *args, **options):
        sealed = access_log_seal()
        self.stdout.write(_("%(n)s access-log entries sealed.") % {"n": sealed})
