from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = _("Clinic")

    def ready(self) -> None:
        from . import emails, invitations, signals  # noqa: F401  (outbox handlers, receivers)
        from .navigation import register_staff_page

        register_staff_page("staff:home", _("Courses"), order=10)
