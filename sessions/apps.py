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

        from .selectors import prepare
        from .services import prepare as prepare_services  # noqa: F401  (its outbox handler)

        journey.register_guard(Stage.PREPARE, Stage.DOSING, prepare.prepare_gate_unmet)
        journey.register_next_step(Stage.PREPARE, prepare.prepare_next_step)
        journey.register_next_step(Stage.DOSING, prepare.dosing_next_step)
