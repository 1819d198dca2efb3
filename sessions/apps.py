from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DosingConfig(AppConfig):
    # The label "sessions" belongs to django.contrib.sessions: tables are dosing_*.
    name = "sessions"
    label = "dosing"
    verbose_name = _("Preparation and dosing")

    def ready(self) -> None:
        # Recordings: the storage's privacy check, and the handler that
        # queues a course's recordings for deletion when filming consent is
        # withdrawn (services/recordings.py).
        from . import checks  # noqa: F401
        from .services import recordings  # noqa: F401
