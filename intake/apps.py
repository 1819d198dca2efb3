from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "intake"
    verbose_name = _("Intake")

    def ready(self) -> None:
        # Availability is edited in the admin (or the shell): whichever way it
        # changes, the cached lists of free times must not be used again.
        from django.db.models.signals import post_delete, post_save

        from clinic import exports, journey
        from clinic.calendar import calendar_changed
        from clinic.models import Stage

        from . import emails  # noqa: F401  (registers the outbox handlers)
        from .models import (
            AvailabilityException,
            AvailabilityWindow,
            BookingRules,
            IntakeCallOutcome,
        )
        from .selectors import client_export, connect_tasks
        from .services import held_intake_call_guard

        def availability_changed(sender, **kwargs):
            calendar_changed()

        for model in (AvailabilityWindow, AvailabilityException, BookingRules):
            for signal in (post_save, post_delete):
                # weak=False: nothing else holds this local function, and a
                # weakly connected receiver would be collected once ready() ends.
                signal.connect(
                    availability_changed,
                    sender=model,
                    weak=False,
                    dispatch_uid=f"calendar-{model.__name__}",
                )

        from clinic.navigation import register_staff_page

        register_staff_page("intake:staff_day", _("Intake calls"), order=20)
        journey.register_guard(Stage.CONNECT, Stage.PREPARE, held_intake_call_guard)
        journey.register_stage_tasks(Stage.CONNECT, connect_tasks)
        from clinic.models import Appointment, Concern, Language

        exports.register(
            "intake_calls",
            client_export,
            _("Your intake calls"),
            fields={
                "start": _("Time of the call"),
                "status": _("Status"),
                "concern": _("What you would like help with"),
                "language": _("Language for the call"),
                "consent_to_contact": _("Agreed to be contacted about the call"),
                "booked_at": _("Booked"),
                "outcomes": _("What the clinician recorded, and each correction"),
                "recorded_at": _("Recorded"),
                "outcome": _("Outcome"),
                "notes": _("Notes"),
                "correction_reason": _("Why it was corrected"),
            },
            values={
                "status": dict(Appointment.Status.choices),
                "outcome": dict(IntakeCallOutcome.Outcome.choices),
                "concern": dict(Concern.choices),
                "language": dict(Language.choices),
            },
        )
