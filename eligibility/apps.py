from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EligibilityConfig(AppConfig):
    name = "eligibility"
    verbose_name = _("Eligibility")

    def ready(self) -> None:
        from clinic import exports, journey
        from clinic.models import Stage

        from . import emails  # noqa: F401  (registers the outbox handlers)
        from .selectors import client_export, connect_next_step
        from .services import eligible_decision_guard

        journey.register_guard(Stage.CONNECT, Stage.PREPARE, eligible_decision_guard)
        journey.register_next_step(Stage.CONNECT, connect_next_step)
        exports.register("screenings", client_export, _("Your screenings"))
