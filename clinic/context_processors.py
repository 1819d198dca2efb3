from django.conf import settings
from django.utils.translation import gettext


def site_name() -> str:
    """The clinic's name as the site shows it, in the active language."""
    return settings.CLINIC_SITE_NAME or gettext("Ketamine-Assisted Therapy Clinic")


def site(request):
    return {"site_name": site_name()}
