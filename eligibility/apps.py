from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EligibilityConfig(AppConfig):
    name = "eligibility"
    verbose_name = _("Eligibility")

    def ready(self) -> None:
        from clinic import exports, journey
        from clinic.models import Stage
        from clinic.navigation import register_staff_page

        from . import emails  # noqa: F401  (registers the outbox handlers)
        from .selectors import client_export, connect_tasks, readable_answers
        from .services import eligible_decision_guard

        register_staff_page("eligibility:staff_list", _("Screenings"), order=30)
        journey.register_guard(Stage.CONNECT, Stage.PREPARE, eligible_decision_guard)
        journey.register_stage_tasks(Stage.CONNECT, connect_tasks)
        from .models import Decision, Screening

        exports.register(
            "screenings",
            client_export,
            _("Your screenings"),
            fields={
                "started_at": _("Started"),
                "submitted_at": _("Sent"),
                "status": _("Status"),
                "answers_in_progress": _("Your answers not sent yet"),
                "submissions": _("Each time you sent it"),
                "number": _("Sending"),
                "answers": _("Your answers"),
                "automatic_outcome": _("First reading of your answers"),
                "reasons": _("Why"),
                "phq9_score": _("PHQ-9 score"),
                "gad7_score": _("GAD-7 score"),
                "decisions": _("Decisions"),
                "decision": _("Decision"),
                "note": _("Note"),
                "screener_version": _("Version of the questions"),
            },
            values={
                "status": dict(Screening.Status.choices),
                "automatic_outcome": dict(Screening.Outcome.choices),
                "decision": dict(Decision.Kind.choices),
            },
            readers={"answers": readable_answers, "answers_in_progress": readable_answers},
        )
