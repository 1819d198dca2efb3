from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class ClinicConfig(AppConfig):
    default = True  # this module holds the admin's config too
    name = "clinic"
    verbose_name = _("Clinic")

    def ready(self) -> None:
        from . import emails, invitations, signals  # noqa: F401  (outbox handlers, receivers)
        from .navigation import register_staff_page

        register_staff_page("staff:home", _("Courses"), order=10)


class ClinicAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin, on the clinic's admin site (clinic/admin_site.py)."""

    default = False
    default_site = "clinic.admin_site.ClinicAdminSite"
