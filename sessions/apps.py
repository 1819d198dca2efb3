from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DosingConfig(AppConfig):
    # The label "sessions" belongs to django.contrib.sessions: tables are dosing_*.
    name = "sessions"
    label = "dosing"
    verbose_name = _("Preparation and dosing")

    def ready(self) -> None:
        from clinic.navigation import register_staff_page

        from . import emails  # noqa: F401  (registers the outbox handlers)

        # The coordinator's main page: rooms over the day.
        register_staff_page("dosing:board", _("Room board"), order=5)
