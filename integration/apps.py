from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationConfig(AppConfig):
    name = "integration"
    verbose_name = _("Integration")

    def ready(self) -> None:
        from .groups import setup as groups_setup
        from .individual.apps import individual_ready
        from .measures.apps import measures_ready
        from .reconnect.apps import reconnect_ready

        # The portal's next step: the first with an answer wins. A questionnaire
        # that is open (and expires) first, then reconnect's choices, then the groups.
        measures_ready()
        reconnect_ready()
        groups_setup.register()
        individual_ready()
