"""Where measures plug into the core and the dosing stage (called from
IntegrationConfig.ready)."""

from django.utils.translation import gettext_lazy as _


def measures_ready() -> None:
    from clinic import journey
    from clinic.models import Stage
    from clinic.navigation import register_staff_page
    from sessions.services import scheduling

    from . import admin, emails  # noqa: F401  (the settings admin, the outbox handlers)
    from .selectors import questionnaire_next_step
    from .services import before_dosing_invitations, follow_ups_schedule

    scheduling.register_booked_hook(before_dosing_invitations)
    journey.register_stage_entered(Stage.INTEGRATE, follow_ups_schedule)
    for stage in (Stage.INTEGRATE, Stage.RECONNECT):
        journey.register_next_step(stage, questionnaire_next_step)
    register_staff_page("measures:staff_list", _("Follow-ups and scores"), order=50)
