"""The intake messages the outbox sends: confirmation (with the calendar
invitation), reminders, the staff notice and the cancellation. Each handler
checks the booking is still as it was when the message was queued, so a
rescheduled or cancelled call never gets a stale message."""

from datetime import datetime, timedelta

import icalendar
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from clinic import outbox
from clinic.context_processors import site_name
from clinic.formatting import local_when
from clinic.models import Appointment, StaffProfile, StaffRole
from clinic.sms import normalise_phone, send_sms

from . import services
from .models import IntakeCall


def _call(message) -> IntakeCall | None:
    return (
        IntakeCall.objects.select_related("appointment__clinic", "course__client__user")
        .prefetch_related("appointment__staff")
        .filter(uuid=message.payload["call"])
        .first()
    )


def local_time(moment: datetime, clinic) -> str:
    return local_when(moment, clinic)


def _absolute(path: str) -> str:
    return settings.SITE_URL + path


def calendar_invitation(call: IntakeCall, *, cancel: bool = False) -> bytes:
    """An .ics with the clinic's VTIMEZONE, so calendars show the local time."""
    appointment = call.appointment
    clinic = appointment.clinic
    zone = clinic.zone
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//KAT Clinic//Intake booking//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancel else "REQUEST")
    event = icalendar.Event()
    event.add("uid", f"{appointment.uuid}@{settings.SITE_URL.split('://')[-1]}")
    event.add("sequence", appointment.version + (1 if cancel else 0))
    event.add("dtstamp", timezone.now())
    event.add("dtstart", timezone.localtime(appointment.start, zone))
    event.add("dtend", timezone.localtime(appointment.end, zone))
    event.add(
        "summary",
        translation.gettext("Intake call with %(site)s") % {"site": site_name()},
    )
    event.add(
        "location",
        translation.gettext("By phone: we will call you at %(phone)s") % {"phone": call.phone},
    )
    event.add(
        "description", _absolute(reverse("intake:manage", args=[services.manage_token(call)]))
    )
    event.add("organizer", f"mailto:{clinic.email}")
    event.add("status", "CANCELLED" if cancel else "CONFIRMED")
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def _send(
    call: IntakeCall,
    template: str,
    context: dict,
    *,
    ics: bytes | None = None,
    cancel: bool = False,
) -> None:
    user = call.course.client.user
    with translation.override(user.preferred_language or call.language):
        context = {
            **context,
            "call": call,
            "user": user,
            "clinic": call.appointment.clinic,
            "when": local_time(call.appointment.start, call.appointment.clinic),
            "site_name": site_name(),
            "manage_url": _absolute(reverse("intake:manage", args=[services.manage_token(call)])),
        }
        subject = render_to_string(f"intake/email/{template}_subject.txt", context).strip()
        text = render_to_string(f"intake/email/{template}_body.txt", context)
        html = render_to_string(f"intake/email/{template}_body.html", context)
        if ics is None and template == "confirmation":
            ics = calendar_invitation(call)
        if ics is None and cancel:
            ics = calendar_invitation(call, cancel=True)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [user.email])
    message.attach_alternative(html, "text/html")
    if ics is not None:
        method = "CANCEL" if cancel else "REQUEST"
        message.attach("invitation.ics", ics, f"text/calendar; charset=utf-8; method={method}")
    message.send()


def _current(call: IntakeCall | None, message) -> bool:
    return (
        call is not None
        and call.appointment.status == Appointment.Status.BOOKED
        and call.appointment.version == message.payload.get("version")
    )


@outbox.handler(services.CONFIRMATION)
def send_confirmation(message) -> bool:
    call = _call(message)
    if not _current(call, message) or call.appointment.start <= timezone.now():
        return False
    user = call.course.client.user
    context = {"rescheduled": not message.payload.get("first", True)}
    if not user.has_usable_password():
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        context["activate_url"] = _absolute(
            reverse("account_activate", args=[uid, default_token_generator.make_token(user)])
        )
    _send(call, "confirmation", context)
    return True


def _send_reminder(message, lead: timedelta) -> bool:
    call = _call(message)
    now = timezone.now()
    if not _current(call, message):
        return False
    start = call.appointment.start
    # After an outage: nothing for a call already started, and no day-before
    # reminder once the two-hour one is due (one reminder, not two in a row).
    shorter = [d for d in services.REMINDERS.values() if d < lead]
    if now >= start or any(now >= start - d for d in shorter):
        return False
    _send(call, "reminder", {"lead_hours": int(lead.total_seconds() // 3600)})
    phone = normalise_phone(call.phone)
    if phone and call.consent_to_contact:
        with translation.override(call.course.client.user.preferred_language or call.language):
            body = translation.gettext(
                "Reminder: your intake call with %(site)s is on %(when)s. To change it: %(url)s"
            ) % {
                "site": site_name(),
                "when": local_time(start, call.appointment.clinic),
                "url": _absolute(reverse("intake:manage", args=[services.manage_token(call)])),
            }
        send_sms(phone, body)
    return True


@outbox.handler(services.REMINDER_24H)
def send_reminder_24h(message) -> bool:
    return _send_reminder(message, services.REMINDERS[services.REMINDER_24H])


@outbox.handler(services.REMINDER_2H)
def send_reminder_2h(message) -> bool:
    return _send_reminder(message, services.REMINDERS[services.REMINDER_2H])


@outbox.handler(services.CANCELLED)
def send_cancellation(message) -> bool:
    call = _call(message)
    if call is None or call.appointment.status != Appointment.Status.CANCELLED:
        return False
    _send(call, "cancelled", {}, cancel=True)
    return True


@outbox.handler(services.STAFF_NOTICE)
def send_staff_notice(message) -> bool:
    """Tell the clinician who takes the call and the clinic's coordinators."""
    call = _call(message)
    if call is None:
        return False
    appointment = call.appointment
    clinic = appointment.clinic
    recipients = {person.email: person for person in appointment.staff.all()}
    for profile in StaffProfile.objects.filter(
        clinics=clinic, role=StaffRole.COORDINATOR, user__is_active=True
    ).select_related("user"):
        recipients.setdefault(profile.user.email, profile.user)
    for person in recipients.values():
        with translation.override(person.preferred_language):
            context = {
                "call": call,
                "clinic": clinic,
                "when": local_time(appointment.start, clinic),
                "day_url": _absolute(
                    reverse("intake:staff_day")
                    + f"?day={timezone.localtime(appointment.start, clinic.zone):%Y-%m-%d}"
                ),
            }
            subject = render_to_string("intake/email/staff_notice_subject.txt", context).strip()
            text = render_to_string("intake/email/staff_notice_body.txt", context)
        EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [person.email]).send()
    return True
