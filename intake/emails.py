"""The intake messages the outbox sends: confirmation (with the calendar
invitation), reminders, the staff notice and the cancellation. Each handler
checks the booking is still as it was when the message was queued, so a
rescheduled or cancelled call never gets a stale message."""

from datetime import timedelta

import icalendar
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from clinic import outbox
from clinic.context_processors import site_name
from clinic.emails import absolute, send_templated
from clinic.formatting import local_when
from clinic.models import Appointment, StaffProfile, StaffRole, User
from clinic.sms import normalise_phone, send_sms

from . import selectors, services
from .models import BookingRequest, IntakeCall, InterestRegistration


def _call(message) -> IntakeCall | None:
    # The staff on the call are read only by the staff notice's fan-out.
    return (
        IntakeCall.objects.select_related("appointment__clinic", "course__client__user")
        .filter(uuid=message.payload["call"])
        .first()
    )


def calendar_invitation(call: IntakeCall, *, cancel: bool = False) -> bytes:
    """An .ics with the clinic's VTIMEZONE, so calendars show the local time."""
    appointment = call.appointment
    clinic = appointment.clinic
    zone = clinic.zone
    calendar = icalendar.Calendar()
    # Neutral: whoever sees the calendar learns nothing of the therapy.
    calendar.add("prodid", "-//Clinic//Appointments//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancel else "REQUEST")
    event = icalendar.Event()
    event.add("uid", f"{appointment.uuid}@{settings.SITE_URL.split('://')[-1]}")
    event.add("sequence", appointment.version + (1 if cancel else 0))
    event.add("dtstamp", timezone.now())
    event.add("dtstart", timezone.localtime(appointment.start, zone))
    event.add("dtend", timezone.localtime(appointment.end, zone))
    # Calendars are often shared: a neutral title, and no manage link (whoever
    # sees the calendar could cancel the call with it).
    event.add("summary", translation.gettext("Phone appointment"))
    event.add(
        "location",
        translation.gettext("By phone: we will call you at %(phone)s") % {"phone": call.phone},
    )
    event.add(
        "description",
        translation.gettext(
            "To change it, use the link in your confirmation e-mail, or call %(phone)s."
        )
        % {"phone": clinic.phone},
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
    invitation: bool = False,
    cancel: bool = False,
) -> None:
    """An e-mail to the client about their call, in their language, with the
    calendar invitation (or its cancellation) when asked."""
    user = call.course.client.user
    appointment = call.appointment

    def values() -> dict:
        return {
            **context,
            "call": call,
            "user": user,
            "clinic": appointment.clinic,
            "when": local_when(appointment.start, appointment.clinic),
            "manage_url": absolute(reverse("intake:manage", args=[services.manage_token(call)])),
        }

    def attachments() -> list:
        if not (invitation or cancel):
            return []
        method = "CANCEL" if cancel else "REQUEST"
        return [
            (
                "invitation.ics",
                calendar_invitation(call, cancel=cancel),
                f"text/calendar; charset=utf-8; method={method}",
            )
        ]

    send_templated(
        to=user.email,
        language=user.preferred_language or call.language,
        template=f"intake/email/{template}",
        context=values,
        attachments=attachments,
    )


def _still_true(call: IntakeCall | None, message) -> bool:
    """Whether the booking is still what the message says. A cancellation
    (to the client, or the staff's notice of one) says it is cancelled; every
    other message, that it is booked at the version it was queued for, so a
    move or a cancel since makes it stale."""
    if call is None:
        return False
    appointment = call.appointment
    if message.kind == services.CANCELLED or message.payload.get("event") == "cancelled":
        return appointment.status == Appointment.Status.CANCELLED
    return appointment.status == Appointment.Status.BOOKED and appointment.version == (
        message.payload.get("version")
    )


@outbox.handler(services.CONFIRMATION)
def send_confirmation(message) -> bool:
    call = _call(message)
    if not _still_true(call, message) or call.appointment.start <= timezone.now():
        return False
    user = call.course.client.user
    context = {"rescheduled": not message.payload.get("first", True)}
    if not user.has_usable_password():
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        context["activate_url"] = absolute(
            reverse("account_activate", args=[uid, default_token_generator.make_token(user)])
        )
    _send(call, "confirmation", context, invitation=True)
    return True


def _reminder_due(message, lead: timedelta) -> IntakeCall | None:
    """The call if this reminder should still go: the booking is as it was,
    the call is ahead, and (after an outage) no shorter reminder is due yet,
    so the person gets one reminder rather than two in a row."""
    call = _call(message)
    now = timezone.now()
    if not _still_true(call, message):
        return None
    start = call.appointment.start
    shorter = [d for d in services.REMINDERS.values() if d < lead]
    if now >= start or any(now >= start - d for d in shorter):
        return None
    return call


def _send_reminder(message, lead: timedelta) -> bool:
    call = _reminder_due(message, lead)
    if call is None:
        return False
    _send(call, "reminder", {"lead_hours": int(lead.total_seconds() // 3600)})
    return True


def _send_text_reminder(message, lead: timedelta) -> bool:
    call = _reminder_due(message, lead)
    phone = normalise_phone(call.phone) if call is not None else None
    # Consent to texts is checked when the reminders are queued; it cannot change after booking.
    if call is None or phone is None:
        return False
    with translation.override(call.course.client.user.preferred_language or call.language):
        body = translation.gettext(
            # The time ends the clause, not the sentence: "10:00 a.m." takes no second stop.
            "Reminder: your intake call with %(site)s is on %(when)s (to change it: %(url)s)"
        ) % {
            "site": site_name(),
            "when": local_when(call.appointment.start, call.appointment.clinic),
            "url": absolute(reverse("intake:manage", args=[services.manage_token(call)])),
        }
    send_sms(phone, body)
    return True


@outbox.handler(services.REMINDER_24H)
def send_reminder_24h(message) -> bool:
    return _send_reminder(message, services.REMINDERS[services.REMINDER_24H])


@outbox.handler(services.REMINDER_2H)
def send_reminder_2h(message) -> bool:
    return _send_reminder(message, services.REMINDERS[services.REMINDER_2H])


@outbox.handler(services.SMS_REMINDER_24H)
def send_text_reminder_24h(message) -> bool:
    return _send_text_reminder(message, services.SMS_REMINDERS[services.SMS_REMINDER_24H])


@outbox.handler(services.SMS_REMINDER_2H)
def send_text_reminder_2h(message) -> bool:
    return _send_text_reminder(message, services.SMS_REMINDERS[services.SMS_REMINDER_2H])


@outbox.handler(services.CANCELLED)
def send_cancellation(message) -> bool:
    call = _call(message)
    if not _still_true(call, message):
        return False
    _send(call, "cancelled", {}, cancel=True)
    return True


@outbox.handler(services.STAFF_NOTICE)
def fan_out_staff_notice(message) -> bool:
    """One row per person to tell: the clinician taking the call and the
    clinic's coordinators."""
    call = _call(message)
    if not _still_true(call, message):
        return False
    clinic = call.appointment.clinic
    people = {person.pk for person in call.appointment.staff.all()}
    people |= set(
        StaffProfile.objects.filter(
            clinics=clinic, role=StaffRole.COORDINATOR, user__is_active=True
        ).values_list("user_id", flat=True)
    )
    outbox.fan_out(message, kind=services.STAFF_NOTICE_ONE, people=sorted(people))
    return True


@outbox.handler(services.STAFF_NOTICE_ONE)
def send_staff_notice(message) -> bool:
    """No health data: when, where, and a link behind sign-in."""
    call = _call(message)
    person = User.objects.filter(pk=message.payload["person"], is_active=True).first()
    if person is None or not _still_true(call, message):
        return False
    appointment = call.appointment
    clinic = appointment.clinic
    send_templated(
        to=person.email,
        language=person.preferred_language,
        template="intake/email/staff_notice",
        context=lambda: {
            "event": message.payload.get("event"),
            "clinic": clinic,
            "when": local_when(appointment.start, clinic),
            "day_url": absolute(selectors.staff_day_url(appointment)),
        },
    )
    return True


@outbox.handler(services.CONFIRM_REQUEST)
def send_confirm_request(message) -> bool:
    """The link that turns a visitor's request into a booking. The raw token
    travels in this row's payload only until the e-mail is sent: it is then
    forgotten, in the transaction that marks the row done (see
    services.booking_request)."""
    token = message.payload.get("token")
    request = (
        BookingRequest.objects.select_related("clinic")
        .filter(uuid=message.payload.get("request"), confirmed_at__isnull=True)
        .first()
    )
    sent = False
    # Expired (or purged) before the worker got to it: nothing to send.
    if token and request is not None and request.expires_at > timezone.now():
        clinic = request.clinic
        send_templated(
            to=request.email,
            language=request.language,
            template="intake/email/confirm_request",
            context=lambda: {
                "visitor": request,
                "clinic": clinic,
                "when": local_when(request.start, clinic),
                "confirm_url": absolute(reverse("intake:confirm", args=[token])),
            },
        )
        sent = True
    outbox.outbox_forget(kind=message.kind, keys=[message.key], fields=["token"])
    return sent


@outbox.handler(services.INTEREST_CONFIRM)
def send_interest_confirm(message) -> bool:
    """The link that confirms an interest registration (double opt-in), in
    the registrant's language. Nothing is sent for a registration confirmed,
    replaced by a newer one or expired meanwhile; the raw token is forgotten
    once the row is done, as for a booking request."""
    token = message.payload.get("token")
    registration = (
        InterestRegistration.objects.pending()
        .filter(uuid=message.payload.get("registration"), expires_at__gt=timezone.now())
        .first()
    )
    sent = False
    if token and registration is not None:
        send_templated(
            to=registration.email,
            language=registration.language,
            template="intake/email/interest_confirm",
            context=lambda: {
                "registration": registration,
                "program": registration.get_concern_display(),
                "days": services.INTEREST_MAX_AGE.days,
                "confirm_url": absolute(reverse("intake:interest_confirm", args=[token])),
            },
        )
        sent = True
    outbox.outbox_forget(kind=message.kind, keys=[message.key], fields=["token"])
    return sent
