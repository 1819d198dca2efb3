from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = _("Clinic")

    def ready(self) -> None:
        from . import emails, signals  # noqa: F401  (register outbox handlers and receivers)
        from .navigation import register_staff_page

        register_staff_page("staff:home", _("Courses"), order=10)
