from functools import cached_property

from django.conf import settings
from django.utils.translation import gettext

from .permissions import is_staff_member
from .selectors import client_offered_intake_booking


def site_name() -> str:
    """The clinic's name as the site shows it, in the active language."""
    return settings.CLINIC_SITE_NAME or gettext("Ketamine-Assisted Therapy Clinic")


class SiteHeader:
    """What the site header offers the person, worked out only when a page
    shows the header, and with no query for a visitor or a staff member."""

    def __init__(self, request):
        self._request = request

    @cached_property
    def offers_intake_booking(self) -> bool:
        """Not to a client whose course is past connect, or who has an intake
        call booked or held: the portal shows where they are."""
        user = getattr(self._request, "user", None)
        if user is None or not user.is_authenticated:
            return True
        if is_staff_member(user):
            return True
        return client_offered_intake_booking(user=user)


def site(request):
    return {"site_name": site_name(), "site_header": SiteHeader(request)}
