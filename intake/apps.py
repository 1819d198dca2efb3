from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "intake"
    verbose_name = _("Intake")

    def ready(self) -> None:
        from clinic import exports, journey
        from clinic.models import Stage

        from . import emails  # noqa: F401  (registers the outbox handlers)
        from .selectors import client_export, connect_next_step
        from .services import held_intake_call_guard

        journey.register_guard(Stage.CONNECT, Stage.PREPARE, held_intake_call_guard)
        journey.register_next_step(Stage.CONNECT, connect_next_step)
        exports.register("intake_calls", client_export, _("Your intake calls"))
