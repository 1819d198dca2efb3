"""Booking, rescheduling and cancelling intake calls. One transaction each."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from clinic import calendar, journey
from clinic.accounts import client_register
from clinic.models import (
    CONCERNS_UNDER_DEVELOPMENT,
    Appointment,
    AppointmentKind,
    ClientProfile,
    Clinic,
    Course,
    Stage,
    User,
)
from clinic.outbox import outbox_enqueue, outbox_enqueue_many
from clinic.permissions import is_clinician_of
from clinic.selectors import active_course

from . import selectors
from .models import BookingRules, IntakeCall, InterestRegistration

CONFIRMATION = "intake.confirmation"
REMINDER_24H = "intake.reminder_24h"
REMINDER_2H = "intake.reminder_2h"
STAFF_NOTICE = "intake.staff_notice"
CANCELLED = "intake.cancelled"
REMINDERS = {REMINDER_24H: timedelta(hours=24), REMINDER_2H: timedelta(hours=2)}
# Text reminders are rows of their own: a failing SMS provider is retried
# without sending the e-mail reminder again.
SMS_REMINDER_24H = "intake.sms_reminder_24h"
SMS_REMINDER_2H = "intake.sms_reminder_2h"
SMS_REMINDERS = {SMS_REMINDER_24H: timedelta(hours=24), SMS_REMINDER_2H: timedelta(hours=2)}
# One row per staff member told of a booking, a move or a cancellation.
STAFF_NOTICE_ONE = "intake.staff_notice_one"

MSG_SLOT_UNAVAILABLE = gettext_noop(
    "That time is not available any more. Please choose another time."
)
MSG_ALREADY_BOOKED = gettext_noop(
    "You already have an intake call booked. You can change it with the link in your confirmation e-mail."
)
MSG_NOT_IN_CONNECT = gettext_noop(
    "Your course is past the intake stage. Please contact the clinic to book a call."
)
MSG_STAFF_EMAIL = gettext_noop(
    "This e-mail address cannot be used to book. Please use your personal address."
)
MSG_UNDER_DEVELOPMENT = gettext_noop(
    "This program is still being developed: you can register your interest instead."
)
MSG_TOO_LATE = gettext_noop(
    "This call is less than %(hours)s hours away: please call the clinic to change it."
)
MSG_RETRY = gettext_noop("Something changed while you were booking. Please try again.")
MSG_REQUEST_EXPIRED = gettext_noop(
    "This confirmation link has expired (after 24 hours). Please choose a time again."
)
MSG_LINK_INVALID = gettext_noop(
    "This link is not valid. Please use the link in your most recent e-mail from the clinic."
)
MSG_LINK_STALE = gettext_noop(
    "This booking has changed since this link was sent. Please use the link in your most recent e-mail."
)


class BookingError(Exception):
    """A booking the rules refuse; `str()` is a sentence for the person."""

    def __init__(self, message: str, intake_call: IntakeCall | None = None):
        super().__init__(message)
        self.intake_call = intake_call


@dataclass(frozen=True)
class Visitor:
    first_name: str
    last_name: str
    email: str
    phone: str
    language: str


# --- Manage-by-link tokens -----------------------------------------------------------

MANAGE_SALT = "intake.manage"


def manage_token(intake_call: IntakeCall) -> str:
    """A signed token for the manage page: the call and its version, so a link
    sent before a reschedule stops working after it."""
    appointment = intake_call.appointment
    return signing.dumps(
        {"c": str(intake_call.uuid), "v": appointment.version}, salt=MANAGE_SALT, compress=True
    )


def intake_call_from_token(token: str) -> IntakeCall:
    try:
        data = signing.loads(token, salt=MANAGE_SALT, max_age=timedelta(days=400))
    except signing.BadSignature as exc:
        raise BookingError(_(MSG_LINK_INVALID)) from exc
    call = (
        IntakeCall.objects.select_related("appointment__clinic", "course__client__user")
        .filter(uuid=data.get("c"))
        .first()
    )
    if call is None:
        raise BookingError(_(MSG_LINK_INVALID))
    if call.appointment.version != data.get("v"):
        raise BookingError(_(MSG_LINK_STALE))
    return call


# --- Booking requests (anonymous visitors) -------------------------------------------------

REQUEST_SALT = "intake.request"
REQUEST_MAX_AGE = timedelta(hours=24)
CONFIRM_REQUEST = "intake.confirm_request"


def booking_request(
    *,
    clinic: Clinic,
    start: datetime,
    visitor: Visitor,
    concern: str,
    consent_to_contact: bool,
    submission: uuid.UUID,
) -> None:
    """A visitor who is not signed in asks for a call: nothing is booked and
    no account is looked at until they open the link e-mailed to the address
    they gave (so a stranger can neither book for someone else nor learn
    whether an address has an account). Sending the form twice sends one
    e-mail."""
    if concern in CONCERNS_UNDER_DEVELOPMENT:
        raise BookingError(_(MSG_UNDER_DEVELOPMENT))
    if selectors.intake_slot_at(clinic=clinic, start=start) is None:
        raise BookingError(_(MSG_SLOT_UNAVAILABLE))
    token = signing.dumps(
        {
            "clinic": clinic.pk,
            "start": start.isoformat(),
            "concern": concern,
            "consent": consent_to_contact,
            "submission": str(submission),
            "visitor": [
                visitor.first_name,
                visitor.last_name,
                visitor.email.lower(),
                visitor.phone,
                visitor.language,
            ],
        },
        salt=REQUEST_SALT,
        compress=True,
    )
    with transaction.atomic():
        outbox_enqueue(kind=CONFIRM_REQUEST, key=str(submission), payload={"token": token})


def booking_request_load(token: str) -> dict:
    """The booking a confirmation link stands for, as intake_call_book's arguments."""
    try:
        data = signing.loads(token, salt=REQUEST_SALT, max_age=REQUEST_MAX_AGE)
        clinic = Clinic.objects.get(pk=data["clinic"])
        first, last, email, phone, language = data["visitor"]
        return {
            "clinic": clinic,
            "start": datetime.fromisoformat(data["start"]),
            "concern": data["concern"],
            "consent_to_contact": bool(data["consent"]),
            "submission": uuid.UUID(data["submission"]),
            "visitor": Visitor(first, last, email, phone, language),
        }
    except signing.SignatureExpired as exc:
        raise BookingError(_(MSG_REQUEST_EXPIRED)) from exc
    except (signing.BadSignature, Clinic.DoesNotExist, KeyError, ValueError, TypeError) as exc:
        raise BookingError(_(MSG_LINK_INVALID)) from exc


# --- Booking ------------------------------------------------------------------------------


def _client_for(*, clinic: Clinic, visitor: Visitor, user: User | None) -> ClientProfile:
    """The booking person's client profile: the signed-in client's, the one
    behind this e-mail address, or a new account (invited to set a password)."""
    if user is None:
        user = (
            User.objects.select_related("staff_profile", "client_profile")
            .filter(email__iexact=visitor.email)
            .first()
        )
    if user is None:
        user = User(
            email=visitor.email.lower(),
            first_name=visitor.first_name,
            last_name=visitor.last_name,
            preferred_language=visitor.language,
        )
        user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=False)
    if user.is_staff or hasattr(user, "staff_profile"):
        raise BookingError(_(MSG_STAFF_EMAIL))
    # Read with the user (the authentication backend, or the query above).
    profile = getattr(user, "client_profile", None)
    if profile is None:
        return client_register(user=user, clinic=clinic, phone=visitor.phone)
    return profile


def _connect_course(profile: ClientProfile, clinic: Clinic) -> Course:
    course = active_course(client=profile)
    if course is None:
        return journey.course_open(client=profile, clinic=clinic, actor=profile.user)
    if course.stage != Stage.CONNECT:
        raise BookingError(_(MSG_NOT_IN_CONNECT))
    return course


def _queue_messages(call: IntakeCall, *, first: bool, now: datetime | None = None) -> None:
    """Confirmation, reminders (e-mail, and text when agreed) and the staff
    notice for this version of the booking. A reminder already due at booking
    time is not queued: the confirmation says it all."""
    now = now or timezone.now()
    appointment = call.appointment
    version = appointment.version
    key = f"{appointment.uuid}:v{version}"
    payload = {"call": str(call.uuid), "version": version}
    messages: list[dict[str, object]] = [
        {"kind": CONFIRMATION, "key": key, "payload": {**payload, "first": first}}
    ]
    reminders = dict(REMINDERS)
    if call.consent_to_contact:
        reminders.update(SMS_REMINDERS)
    for kind, before in reminders.items():
        due = appointment.start - before
        if due > now:
            messages.append({"kind": kind, "key": key, "payload": payload, "due_at": due})
    messages.append(
        {
            "kind": STAFF_NOTICE,
            "key": key,
            "payload": {**payload, "event": "booked" if first else "moved"},
        }
    )
    outbox_enqueue_many(messages)


def intake_call_book(
    *,
    clinic: Clinic,
    start: datetime,
    visitor: Visitor,
    concern: str,
    consent_to_contact: bool,
    submission: uuid.UUID,
    user: User | None = None,
    now: datetime | None = None,
) -> IntakeCall:
    """Book a free intake call at `start` with whichever intake clinician is
    free then, or raise BookingError saying why not.

    The same form sent twice (same `submission`) returns the first booking
    as it is now, cancelled perhaps: callers show its status (the booked page
    sends a call no longer booked to the manage page), never a new booking.
    The candidate clinicians' rows are locked before their calendars are read,
    so two people taking the last place at one time cannot both get it; the
    exclusion constraint on reservations is the last line behind that.
    """
    if concern in CONCERNS_UNDER_DEVELOPMENT:
        raise BookingError(_(MSG_UNDER_DEVELOPMENT))
    # The same form sent twice by the same person: their first booking. A
    # submission id is only ever another person's if it was copied out of
    # their page, and then it reveals nothing (the insert below refuses it).
    sent_before = IntakeCall.objects.filter(
        submission=submission, course__client__user__email__iexact=visitor.email
    ).select_related("appointment")
    existing = sent_before.first()
    if existing is not None:
        return existing
    now = now or timezone.now()
    rules = selectors.booking_rules(clinic)
    try:
        with transaction.atomic():
            slot = selectors.intake_slot_at(clinic=clinic, start=start, now=now, rules=rules)
            if slot is None:
                raise BookingError(_(MSG_SLOT_UNAVAILABLE))
            profile = _client_for(clinic=clinic, visitor=visitor, user=user)
            # One lock order everywhere (calendar_lock): clinicians by id, then the client.
            calendar.calendar_lock(staff_ids=slot.staff_ids, client_id=profile.pk)
            # The same form sent twice, the first send committed while we waited for the lock.
            repeat = sent_before.first()
            if repeat is not None:
                return repeat
            upcoming = selectors.upcoming_intake_call(client_id=profile.pk, now=now)
            if upcoming is not None:
                raise BookingError(_(MSG_ALREADY_BOOKED), intake_call=upcoming)
            course = _connect_course(profile, clinic)
            fresh = selectors.intake_slot_at(clinic=clinic, start=start, now=now, rules=rules)
            if fresh is None:
                raise BookingError(_(MSG_SLOT_UNAVAILABLE))
            # Only a clinician whose row we locked: one freed meanwhile is for the next booking.
            free_and_locked = [pk for pk in fresh.staff_ids if pk in slot.staff_ids]
            if not free_and_locked:
                raise BookingError(_(MSG_SLOT_UNAVAILABLE))
            clinician = User.objects.get(pk=free_and_locked[0])
            appointment = calendar.appointment_book(
                clinic=clinic,
                kind=AppointmentKind.INTAKE_CALL,
                start=fresh.start,
                end=fresh.end,
                staff=[clinician],
                client=profile,
                buffer=timedelta(minutes=rules.buffer_minutes),
                locked=True,
            )
            call = IntakeCall(
                appointment=appointment,
                course=course,
                concern=concern,
                language=visitor.language,
                phone=visitor.phone,
                consent_to_contact=consent_to_contact,
                submission=submission,
            )
            # Field checks only: the rows it points to were just read or written
            # in this transaction, and the unique submission is the database's
            # to enforce (its IntegrityError is handled below).
            call.full_clean(exclude=["appointment", "course"], validate_unique=False)
            call.save()
            _queue_messages(call, first=True)
    except calendar.CalendarConflict as exc:
        raise BookingError(_(MSG_SLOT_UNAVAILABLE)) from exc
    except IntegrityError as exc:
        # The same submission committed by a concurrent request: that booking stands.
        existing = sent_before.first()
        if existing is None:
            raise BookingError(_(MSG_RETRY)) from exc
        return existing
    return call


def _check_change_allowed(call: IntakeCall, now: datetime, *, rules: BookingRules) -> None:
    if call.appointment.status != Appointment.Status.BOOKED:
        raise BookingError(_(MSG_LINK_STALE))
    if call.appointment.start - now < timedelta(hours=rules.change_cutoff_hours):
        raise BookingError(_(MSG_TOO_LATE) % {"hours": rules.change_cutoff_hours})


def intake_call_cancel(*, intake_call: IntakeCall, now: datetime | None = None) -> IntakeCall:
    """Cancel by the client's link: within the clinic's policy only. The
    reminders still queued see the cancelled appointment and send nothing."""
    now = now or timezone.now()
    rules = selectors.booking_rules(intake_call.appointment.clinic)
    _check_change_allowed(intake_call, now, rules=rules)
    try:
        with transaction.atomic():
            version = intake_call.appointment.version
            calendar.appointment_cancel(appointment=intake_call.appointment, version=version)
            payload = {"call": str(intake_call.uuid), "version": version}
            outbox_enqueue(kind=CANCELLED, key=str(intake_call.appointment.uuid), payload=payload)
            outbox_enqueue(
                kind=STAFF_NOTICE,
                key=f"{intake_call.appointment.uuid}:cancelled",
                payload={**payload, "event": "cancelled"},
            )
    except calendar.CalendarConflict as exc:
        raise BookingError(_(MSG_LINK_STALE)) from exc
    intake_call.appointment.refresh_from_db()
    return intake_call


def intake_call_reschedule(
    *, intake_call: IntakeCall, start: datetime, now: datetime | None = None
) -> IntakeCall:
    """Move the call to another free slot. The appointment's version goes up:
    the old link and the old reminders go stale, new ones are queued."""
    now = now or timezone.now()
    appointment = intake_call.appointment
    clinic = appointment.clinic
    rules = selectors.booking_rules(clinic)
    _check_change_allowed(intake_call, now, rules=rules)
    try:
        with transaction.atomic():
            slot = selectors.intake_slot_at(clinic=clinic, start=start, now=now, rules=rules)
            if slot is None:
                raise BookingError(_(MSG_SLOT_UNAVAILABLE))
            clinician = User.objects.get(pk=slot.staff_ids[0])
            calendar.appointment_reschedule(
                appointment=appointment,
                start=slot.start,
                end=slot.end,
                staff=[clinician],
                buffer=timedelta(minutes=rules.buffer_minutes),
            )
            intake_call.appointment = appointment
            _queue_messages(intake_call, first=False)
    except calendar.CalendarConflict as exc:
        raise BookingError(_(MSG_SLOT_UNAVAILABLE)) from exc
    return intake_call


def interest_register(
    *, name: str, email: str, concern: str, clinic: Clinic | None, language: str, consent: bool
) -> InterestRegistration:
    """Remember someone who wants to hear when a program opens (once per program)."""
    registration, _created = InterestRegistration.objects.update_or_create(
        email=email.lower(),
        concern=concern,
        defaults={
            "name": name,
            "clinic": clinic,
            "language": language,
            "consent_to_contact": consent,
        },
    )
    return registration


MSG_NOT_STARTED = gettext_noop(
    "The call has not started yet: record its outcome once it has taken place."
)
MSG_CLINICIANS_ONLY = gettext_noop(
    "Only a clinician of this clinic can record the outcome of an intake call."
)


MSG_OUTCOME_RECORDED = gettext_noop(
    "The outcome of this call is already recorded. Reload the page to see it."
)
# The journey event's reason when a held call completes the connect stage.
EVENT_CALL_HELD = gettext_noop("Intake call held")


def intake_call_record_outcome(
    *, intake_call: IntakeCall, outcome: str, notes: str, actor: User, now: datetime | None = None
) -> IntakeCall:
    """A clinician marks the call held or no-show, with notes, once; who did
    it and when is kept with them. A held call is one of the conditions for
    leaving the connect stage: when it is the last one met, the course moves
    on to prepare in the same transaction."""
    now = now or timezone.now()
    appointment = intake_call.appointment
    if not is_clinician_of(actor, appointment.clinic_id):
        raise BookingError(_(MSG_CLINICIANS_ONLY))
    if appointment.start > now:
        raise BookingError(_(MSG_NOT_STARTED))
    status = {"held": Appointment.Status.HELD, "no_show": Appointment.Status.NO_SHOW}[outcome]
    try:
        with transaction.atomic():
            calendar.appointment_mark(appointment=appointment, status=status, now=now)
            IntakeCall.objects.filter(pk=intake_call.pk).update(
                notes=notes.strip(), outcome_by=actor, outcome_at=now
            )
            if status == Appointment.Status.HELD:
                journey.course_advance(
                    course=intake_call.course, cause=_(EVENT_CALL_HELD), by=actor
                )
    except calendar.CalendarConflict as exc:
        raise BookingError(_(MSG_OUTCOME_RECORDED)) from exc
    intake_call.refresh_from_db()
    intake_call.appointment.refresh_from_db()
    return intake_call


def held_intake_call_guard(course: Course) -> list[str]:
    """Connect -> prepare needs a held intake call (registered in IntakeConfig.ready)."""
    if selectors.has_held_intake_call(course):
        return []
    return [_("The intake call must have taken place first.")]
