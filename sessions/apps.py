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

        from . import emails  # noqa: F401  (the scheduling reminders' outbox handlers)
        from .selectors import prepare
        from .services import prepare as prepare_services  # noqa: F401  (its outbox handler)
        from .services.record import series_complete_guard

        # Prepare -> dosing: modules, consent and a cleared assessment, one guard
        # (selectors/prepare.py). Dosing -> integrate: the series complete.
        journey.register_guard(Stage.PREPARE, Stage.DOSING, prepare.prepare_gate_unmet)
        journey.register_guard(Stage.DOSING, Stage.INTEGRATE, series_complete_guard)
        # The coordinator's main page: rooms over the day.
        register_staff_page("dosing:board", _("Room board"), order=5)
        register_staff_page("dosing:record_day", _("Clinical records"), order=45)
        journey.register_next_step(Stage.PREPARE, prepare.prepare_next_step)
        journey.register_next_step(Stage.DOSING, prepare.dosing_next_step)
        self._register_export(prepare.client_export)
        # Recordings: the storage's privacy check, and the handler that
        # queues a course's recordings for deletion when filming consent is
        # withdrawn (services/recordings.py).
        from . import checks  # noqa: F401
        from .services import recordings  # noqa: F401

    @staticmethod
    def _register_export(provider) -> None:
        from clinic import exports
        from clinic.models import Language

        from .models import Consent, SessionPreferences

        exports.register(
            "preparation",
            provider,
            _("Your preparation"),
            fields={
                "modules_read": _("Modules read"),
                "module": _("Module"),
                "version": _("Version"),
                "consents": _("Consents"),
                "document": _("Document"),
                "language": _("Language"),
                "decision": _("Answer"),
                "typed_name": _("Name typed"),
                "ip_address": _("IP address"),
                "text_sha256": _("SHA-256 of the text shown"),
                "preferences": _("Session preferences"),
                "eye_shades": _("Eye shades"),
                "sound": _("Music or silence"),
                "escort_name": _("Who takes you home"),
                "escort_phone": _("Their phone number"),
                "notes": _("Anything the team should know"),
                "updated_at": _("Updated"),
            },
            values={
                "decision": dict(Consent.Decision.choices),
                "language": dict(Language.choices),
                "eye_shades": dict(SessionPreferences.EyeShades.choices),
                "sound": dict(SessionPreferences.Sound.choices),
            },
        )
