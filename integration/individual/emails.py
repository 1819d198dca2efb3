"""The client's messages about an integration session, sent from the
outbox in their language: the confirmation (with the calendar invitation),
the reminder a day ahead, the cancellation. They use the wording of the
dosing stage's appointment messages (`sessions/email/`), which name the
kind of appointment; each handler checks the appointment is still as it was
when the message was queued, so a move or a cancellation since never lets
a stale one out."""

from django.utils import timezone

from clinic import outbox
from clinic.emails import send_templated
from clinic.formatting import local_when
from clinic.models import Appointment, AppointmentKind
from sessions.emails import invitation_attachments

from . import services


def _appointment(message) -> Appointment | None:
    return (
        Appointment.objects.select_related("clinic", "room", "client__user")
        .filter(uuid=message.payload["appointment"], kind=AppointmentKind.INTEGRATION_SESSION)
        .first()
    )


def _still_true(appointment: Appointment | None, message) -> bool:
    if appointment is None or appointment.client is None:
        return False
    if appointment.start <= timezone.now():
        return False
    if message.kind == services.CANCELLED:
        return appointment.status == Appointment.Status.CANCELLED
    return (
        appointment.status == Appointment.Status.BOOKED
        and appointment.version == message.payload.get("version")
    )


def _send(appointment: Appointment, template: str, context: dict, *, ics: str = "") -> None:
    user = appointment.client.user  # _still_true checked the appointment has a client
    clinic = appointment.clinic

    def values() -> dict:
        return {
            **context,
            "user": user,
            "clinic": clinic,
            "appointment": appointment,
            "kind": appointment.get_kind_display(),
            "room": appointment.room,
            "when": local_when(appointment.start, clinic),
            "until": local_when(appointment.end, clinic),
            "dosing": False,
            "instructions": "",
        }

    send_templated(
        to=user.email,
        language=user.preferred_language,
        template=f"sessions/email/{template}",
        context=values,
        attachments=lambda: invitation_attachments(appointment, ics),
    )


@outbox.handler(services.CONFIRMATION)
def send_confirmation(message) -> bool:
    appointment = _appointment(message)
    if not _still_true(appointment, message):
        return False
    _send(
        appointment,
        "confirmation",
        {"moved": not message.payload.get("first", True)},
        ics="request",
    )
    return True


@outbox.handler(services.REMINDER_24H)
def send_reminder_24h(message) -> bool:
    appointment = _appointment(message)
    if not _still_true(appointment, message):
        return False
    _send(appointment, "reminder", {"lead_hours": 24})
    return True


@outbox.handler(services.CANCELLED)
def send_cancellation(message) -> bool:
    appointment = _appointment(message)
    if not _still_true(appointment, message):
        return False
    _send(appointment, "cancelled", {}, ics="cancel")
    return True
