"""Where individual integration sessions plug in (called from IntegrationConfig.ready)."""


def individual_ready() -> None:
    from django.utils.translation import gettext_lazy as _

    from clinic.navigation import register_portal_page

    from . import admin, emails  # noqa: F401  (the settings admin, the outbox handlers)

    register_portal_page("individual:portal", _("My integration sessions"), order=15)
