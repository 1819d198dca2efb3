from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DosingConfig(AppConfig):
    # The label "sessions" belongs to django.contrib.sessions: tables are dosing_*.
    name = "sessions"
    label = "dosing"
    verbose_name = _("Preparation and dosing")

    def ready(self) -> None:
        from clinic import journey
        from clinic.models import Stage
        from clinic.navigation import register_staff_page

        from .services.record import assessment_cleared_guard, series_complete_guard

        # The session record (services/record.py).
        journey.register_guard(Stage.PREPARE, Stage.DOSING, assessment_cleared_guard)
        journey.register_guard(Stage.DOSING, Stage.INTEGRATE, series_complete_guard)
        register_staff_page("dosing:record_day", _("Clinical records"), order=45)
