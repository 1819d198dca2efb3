"""The client's messages about their prepare and dosing appointments, sent
from the outbox: the confirmation (with a calendar invitation), reminders
48 and 24 hours ahead (with the clinic's day-of instructions before a dosing
session), and the cancellation. Each handler checks that the appointment is
still as it was when the message was queued, so a move or a cancellation
since never lets a stale message out, and the outbox's (kind, key) sends
each one once."""

from datetime import timedelta

import icalendar
from django.conf import settings
from django.utils import timezone, translation

from clinic import outbox
from clinic.emails import send_templated
from clinic.formatting import local_when
from clinic.models import Appointment, AppointmentKind

from .selectors.board import dosing_settings
from .services import scheduling


def _appointment(message) -> Appointment | None:
    return (
        Appointment.objects.select_related("clinic", "room", "client__user")
        .filter(uuid=message.payload["appointment"], kind__in=list(scheduling.BOOKABLE_STAGES))
        .first()
    )


def _still_true(appointment: Appointment | None, message) -> bool:
    """A cancellation: the appointment is cancelled. Anything else: it is
    still booked at the version the message was queued for."""
    if appointment is None or appointment.client is None:
        return False
    if message.kind == scheduling.CANCELLED:
        return appointment.status == Appointment.Status.CANCELLED
    return appointment.status == Appointment.Status.BOOKED and appointment.version == (
        message.payload.get("version")
    )


def calendar_invitation(appointment: Appointment, *, cancel: bool = False) -> bytes:
    """An .ics with the clinic's VTIMEZONE. Neutral, like intake's: calendars
    are often shared, so the title and the product id say nothing of the
    therapy, only where and when."""
    clinic = appointment.clinic
    zone = clinic.zone
    invitation = icalendar.Calendar()
    invitation.add("prodid", "-//Clinic//Appointments//EN")
    invitation.add("version", "2.0")
    invitation.add("method", "CANCEL" if cancel else "REQUEST")
    event = icalendar.Event()
    event.add("uid", f"{appointment.uuid}@{settings.SITE_URL.split('://')[-1]}")
    event.add("sequence", appointment.version + (1 if cancel else 0))
    event.add("dtstamp", timezone.now())
    event.add("dtstart", timezone.localtime(appointment.start, zone))
    event.add("dtend", timezone.localtime(appointment.end, zone))
    event.add("summary", translation.gettext("Appointment at the clinic"))
    event.add("location", f"{clinic.street_address}, {clinic.city} {clinic.postal_code}")
    event.add(
        "description",
        translation.gettext("To change it, call the clinic at %(phone)s.")
        % {"phone": clinic.phone},
    )
    event.add("organizer", f"mailto:{clinic.email}")
    event.add("status", "CANCELLED" if cancel else "CONFIRMED")
    invitation.add_component(event)
    invitation.add_missing_timezones()
    return invitation.to_ical()


def invitation_attachments(appointment: Appointment, ics: str) -> list:
    """The e-mail's calendar attachment: the appointment (ics="request"), its
    cancellation (ics="cancel"), or none (ics="")."""
    if not ics:
        return []
    method = "CANCEL" if ics == "cancel" else "REQUEST"
    return [
        (
            "invitation.ics",
            calendar_invitation(appointment, cancel=ics == "cancel"),
            f"text/calendar; charset=utf-8; method={method}",
        )
    ]


def _send(appointment: Appointment, template: str, context: dict, *, ics: str = "") -> None:
    """An e-mail to the client, in their language; with the invitation
    (ics="request") or its cancellation (ics="cancel") attached."""
    user = appointment.client.user  # _still_true checked the appointment has a client
    clinic = appointment.clinic
    dosing = appointment.kind == AppointmentKind.DOSING_SESSION
    instructions = dosing_settings(clinic) if dosing else None

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
            "dosing": dosing,
            "instructions": instructions.day_of_instructions(user.preferred_language)
            if instructions is not None
            else "",
        }

    send_templated(
        to=user.email,
        language=user.preferred_language,
        template=f"sessions/email/{template}",
        context=values,
        attachments=lambda: invitation_attachments(appointment, ics),
    )


@outbox.handler(scheduling.CONFIRMATION)
def send_confirmation(message) -> bool:
    appointment = _appointment(message)
    if not _still_true(appointment, message) or appointment.start <= timezone.now():
        return False
    _send(
        appointment,
        "confirmation",
        {"moved": not message.payload.get("first", True)},
        ics="request",
    )
    return True


def _reminder(message, lead: timedelta) -> bool:
    """Send the reminder if it should still go: the booking is as it was,
    it is ahead, and (after an outage) no shorter reminder is due already,
    so the client gets one reminder rather than two in a row."""
    appointment = _appointment(message)
    now = timezone.now()
    if not _still_true(appointment, message):
        return False
    start = appointment.start
    shorter = [d for d in scheduling.REMINDERS.values() if d < lead]
    if now >= start or any(now >= start - d for d in shorter):
        return False
    _send(appointment, "reminder", {"lead_hours": int(lead.total_seconds() // 3600)})
    return True


@outbox.handler(scheduling.REMINDER_48H)
def send_reminder_48h(message) -> bool:
    return _reminder(message, scheduling.REMINDERS[scheduling.REMINDER_48H])


@outbox.handler(scheduling.REMINDER_24H)
def send_reminder_24h(message) -> bool:
    return _reminder(message, scheduling.REMINDERS[scheduling.REMINDER_24H])


@outbox.handler(scheduling.CANCELLED)
def send_cancellation(message) -> bool:
    appointment = _appointment(message)
    if not _still_true(appointment, message) or appointment.start <= timezone.now():
        return False
    _send(appointment, "cancelled", {}, ics="cancel")
    return True
