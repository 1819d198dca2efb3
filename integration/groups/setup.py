"""How integration groups plug into the core: their e-mails' outbox
handlers, the staff page in the navigation, and the client's step in the
integrate and reconnect stages. Called from IntegrationConfig.ready()."""

from django.utils.translation import pgettext_lazy


def register() -> None:
    from clinic import journey
    from clinic.models import Stage
    from clinic.navigation import register_staff_page

    from . import emails  # noqa: F401  (the outbox handlers)
    from .selectors import groups_next_step

    register_staff_page(
        "groups:staff_list", pgettext_lazy("page title", "Integration groups"), order=50
    )
    for stage in (Stage.INTEGRATE, Stage.RECONNECT):
        journey.register_next_step(stage, groups_next_step)
