"""Booking, rescheduling and cancelling intake calls. One transaction each."""

import hashlib
import secrets
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
from clinic.outbox import outbox_enqueue, outbox_enqueue_many, outbox_forget
from clinic.permissions import is_clinician_of
from clinic.selectors import active_course

from . import selectors
from .models import (
    BookingRequest,
    BookingRules,
    IntakeCall,
    IntakeCallOutcome,
    InterestRegistration,
)

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


class SlotTaken(BookingError):
    """The time asked for is not free (taken, or never a slot): the call is unchanged."""


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


# --- Links e-mailed to prove an address --------------------------------------------------


def token_digest(token: str) -> str:
    """What the database keeps of a link's token: its SHA-256. Looking a
    link up by this hash is an index lookup on a value the visitor cannot
    steer, so there is no timing to compare."""
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> tuple[str, str]:
    """A random token for a link (256 bits, URL-safe) and its digest."""
    token = secrets.token_urlsafe(32)
    return token, token_digest(token)


# --- Booking requests (anonymous visitors) -------------------------------------------------

REQUEST_MAX_AGE = timedelta(hours=24)
CONFIRM_REQUEST = "intake.confirm_request"

MSG_REQUEST_USED = gettext_noop(
    "This link has already been used to confirm your call. To see, change or cancel it, "
    "use the link in the confirmation e-mail we sent you."
)
MSG_REQUEST_LINK_UNKNOWN = gettext_noop(
    "This confirmation link is not valid, or it has expired (links work for 24 hours). "
    "Please choose a time again."
)


def booking_request(
    *,
    clinic: Clinic,
    start: datetime,
    visitor: Visitor,
    concern: str,
    consent_to_contact: bool,
    submission: uuid.UUID,
    now: datetime | None = None,
    rules: BookingRules | None = None,
) -> None:
    """A visitor who is not signed in asks for a call: nothing is booked and
    no account is looked at until they open the link e-mailed to the address
    they gave (so a stranger can neither book for someone else nor learn
    whether an address has an account). Sending the form twice sends one
    e-mail.

    The request waits here, server-side, and the link carries only a random
    token, so nothing about the visitor travels in it (nor reaches a web
    server's access log). Where the raw token lives: the request row keeps
    only its hash; the raw token goes into the outbox row that e-mails it,
    because the e-mail may be retried and must carry the same link each
    time (a token drawn by the handler at send time would differ on each
    retry, and one whose hash was rolled back after the mail left would be a
    dead link). The handler blanks it from the payload in the transaction
    that marks the row sent (clinic.outbox.outbox_forget), and the purge
    blanks any left behind by an e-mail that never went; so the raw token is
    at rest only while its e-mail waits to be sent, normally seconds."""
    if concern in CONCERNS_UNDER_DEVELOPMENT:
        raise BookingError(_(MSG_UNDER_DEVELOPMENT))
    if selectors.intake_slot_at(clinic=clinic, start=start, rules=rules) is None:
        raise BookingError(_(MSG_SLOT_UNAVAILABLE))
    if BookingRequest.objects.filter(submission=submission).exists():
        return  # the same form sent again: its e-mail is on its way
    now = now or timezone.now()
    token, digest = _new_token()
    request = BookingRequest(
        clinic=clinic,
        start=start,
        first_name=visitor.first_name,
        last_name=visitor.last_name,
        email=visitor.email.strip().lower(),
        phone=visitor.phone,
        language=visitor.language,
        concern=concern,
        consent_to_contact=consent_to_contact,
        submission=submission,
        token_hash=digest,
        created_at=now,
        expires_at=now + REQUEST_MAX_AGE,
    )
    # The form checked each field; the unique submission is the database's
    # to enforce (the same form sent twice at once).
    request.full_clean(exclude=["clinic"], validate_unique=False)
    try:
        with transaction.atomic():
            request.save()
            outbox_enqueue(
                kind=CONFIRM_REQUEST,
                key=str(request.uuid),
                payload={"request": str(request.uuid), "token": token},
            )
    except IntegrityError:
        return  # the same form, sent twice at once: the first send's e-mail goes


def _request_for_token(token: str, *, now: datetime) -> BookingRequest:
    request = (
        BookingRequest.objects.select_related("clinic")
        .filter(token_hash=token_digest(token))
        .first()
    )
    if request is None:
        raise BookingError(_(MSG_REQUEST_LINK_UNKNOWN))
    if request.confirmed_at is not None:
        raise BookingError(_(MSG_REQUEST_USED))
    if request.expires_at <= now:
        raise BookingError(_(MSG_REQUEST_EXPIRED))
    return request


def booking_request_pending(*, token: str, now: datetime | None = None) -> BookingRequest:
    """The request a confirmation link stands for, while it can still be
    confirmed; else BookingError saying why (unknown, used, expired)."""
    return _request_for_token(token, now=now or timezone.now())


def _booking_of(request: BookingRequest) -> dict:
    return {
        "clinic": request.clinic,
        "start": request.start,
        "visitor": Visitor(
            request.first_name, request.last_name, request.email, request.phone, request.language
        ),
        "concern": request.concern,
        "consent_to_contact": request.consent_to_contact,
        "submission": request.submission,
    }


def booking_request_confirm(*, token: str, now: datetime | None = None) -> IntakeCall:
    """The person opened the link: the address is theirs, so book the call
    they asked for and spend the link. The booking carries the request's
    submission id, so the link sent twice at once books once: intake_call_book
    gives the second send the booking the first made. When the booking is
    refused (the time was taken meanwhile) the link stays usable until it
    expires."""
    now = now or timezone.now()
    request = _request_for_token(token, now=now)
    with transaction.atomic():
        call = intake_call_book(**_booking_of(request), now=now)
        BookingRequest.objects.filter(pk=request.pk, confirmed_at__isnull=True).update(
            confirmed_at=now
        )
    return call


@dataclass
class PurgeResult:
    booking_requests: int = 0
    interest_registrations: int = 0


def expired_requests_purge(*, now: datetime | None = None) -> PurgeResult:
    """Forget what visitors asked for by e-mail link once the link has
    expired: booking requests (confirmed ones too: the booking lives on as
    its intake call, and the request only duplicated the visitor's details).
    Interest registrations nobody confirmed in time go too (a confirmed one
    stays until its owner asks us to forget it). Tokens still sitting in
    the payloads of e-mails that never went out (a failed send, an outage)
    are blanked as well. Run by beat (intake.tasks.purge_expired_requests)."""
    now = now or timezone.now()
    result = PurgeResult()
    with transaction.atomic():
        result.booking_requests = _purge(
            CONFIRM_REQUEST, BookingRequest.objects.filter(expires_at__lte=now)
        )
        result.interest_registrations = _purge(
            INTEREST_CONFIRM, InterestRegistration.objects.pending().filter(expires_at__lte=now)
        )
    return result


def _purge(kind: str, expired) -> int:
    """Delete the expired rows and blank the tokens of their e-mails (and of
    any e-mail of this kind given up on), and say how many rows went."""
    keys = [str(key) for key in expired.values_list("uuid", flat=True)]
    outbox_forget(kind=kind, keys=keys, fields=["token"])
    outbox_forget(kind=kind, fields=["token"])
    _total, by_model = expired.delete()
    return by_model.get(expired.model._meta.label, 0)


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
    rules: BookingRules | None = None,
) -> IntakeCall:
    """Book a free intake call at `start` with whichever intake clinician is
    free then, or raise BookingError saying why not.

    The same form sent twice (same `submission`) returns the first booking
    as it is now, cancelled perhaps: callers show its status (the booked page
    sends a call no longer booked to the manage page), never a new booking.

    Only the clinician the booking takes is locked (`calendar.staff_lock_first`),
    then the client, and the calendar is checked under those locks, so two
    people taking the last place at one time cannot both get it; the
    exclusion constraint on reservations is the last line behind that. When
    the clinician was taken between the read of the free slots and the lock,
    the next one free at that time is tried, each in a savepoint whose
    rollback lets the taken one's row go first.
    """
    if concern in CONCERNS_UNDER_DEVELOPMENT:
        raise BookingError(_(MSG_UNDER_DEVELOPMENT))
    now = now or timezone.now()
    rules = rules or selectors.booking_rules(clinic)
    slot = selectors.intake_slot_at(clinic=clinic, start=start, now=now, rules=rules)
    if slot is None:
        # The same form sent again, whose first send took the time: its booking.
        # A submission id is only ever another person's if it was copied out of
        # their page, and then it reveals nothing (the insert below refuses it).
        existing = _sent_before(submission, visitor)
        if existing is not None:
            return existing
        raise BookingError(_(MSG_SLOT_UNAVAILABLE))
    candidates = list(slot.staff_ids)
    try:
        with transaction.atomic():
            profile = _client_for(clinic=clinic, visitor=visitor, user=user)
            while True:
                try:
                    with transaction.atomic():
                        return _book_first_free(
                            candidates,
                            slot=slot,
                            profile=profile,
                            clinic=clinic,
                            visitor=visitor,
                            concern=concern,
                            consent_to_contact=consent_to_contact,
                            submission=submission,
                            now=now,
                            rules=rules,
                        )
                except _ClinicianTaken as taken:
                    # Taken between the read and the lock: the next one, if any.
                    candidates.remove(taken.clinician_id)
                    if not candidates:
                        raise BookingError(_(MSG_SLOT_UNAVAILABLE)) from None
    except IntegrityError as exc:
        # The same submission committed by a concurrent request: that booking stands.
        existing = _sent_before(submission, visitor)
        if existing is None:
            raise BookingError(_(MSG_RETRY)) from exc
        return existing


class _ClinicianTaken(Exception):
    def __init__(self, clinician_id: int):
        super().__init__(clinician_id)
        self.clinician_id = clinician_id


def _sent_before(submission: uuid.UUID, visitor: Visitor) -> IntakeCall | None:
    return (
        IntakeCall.objects.filter(
            submission=submission, course__client__user__email__iexact=visitor.email
        )
        .select_related("appointment")
        .first()
    )


def _book_first_free(
    candidates: list[int],
    *,
    slot: selectors.Slot,
    profile: ClientProfile,
    clinic: Clinic,
    visitor: Visitor,
    concern: str,
    consent_to_contact: bool,
    submission: uuid.UUID,
    now: datetime,
    rules: BookingRules,
) -> IntakeCall:
    """One try, inside its own savepoint: lock a clinician free at the slot,
    then the client (calendar_lock's order), check and write. Raises
    _ClinicianTaken when the calendar says the clinician is busy after all."""
    clinician = calendar.staff_lock_first(candidates)
    calendar.calendar_lock(client_id=profile.pk)
    # Under the client's lock: the same form whose first send committed while
    # this one waited, and the one upcoming intake call a client may hold.
    sent_before, upcoming = selectors.booking_blockers(
        client_id=profile.pk, submission=submission, now=now
    )
    if sent_before is not None:
        return sent_before
    if upcoming is not None:
        raise BookingError(_(MSG_ALREADY_BOOKED), intake_call=upcoming)
    course = _connect_course(profile, clinic)
    try:
        appointment = calendar.appointment_book(
            clinic=clinic,
            kind=AppointmentKind.INTAKE_CALL,
            start=slot.start,
            end=slot.end,
            staff=[clinician],
            client=profile,
            buffer=timedelta(minutes=rules.buffer_minutes),
            locked=True,
            savepoint=False,  # this try's own savepoint is rolled back on a conflict
        )
    except calendar.CalendarConflict as exc:
        raise _ClinicianTaken(clinician.pk) from exc
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
    # to enforce (its IntegrityError is handled by the caller).
    call.full_clean(exclude=["appointment", "course"], validate_unique=False)
    call.save()
    _queue_messages(call, first=True, now=now)
    return call


MSG_ALREADY_CANCELLED = gettext_noop("This call is already cancelled.")
MSG_ALREADY_MOVED = gettext_noop("Your intake call is already moved to this time.")
MSG_TAKEN_MEANWHILE = gettext_noop(
    "The time you chose was taken while you were confirming. Nothing has changed: "
    "your call is still on %(when)s. Please choose another time."
)


def intake_call_change_check(
    *, intake_call: IntakeCall, now: datetime | None = None
) -> BookingRules:
    """Raise BookingError if the client may not change the call by the link
    now: asked before a confirmation is shown, so nobody confirms a change
    that would then be refused. Returns the clinic's rules it read."""
    now = now or timezone.now()
    rules = selectors.booking_rules(intake_call.appointment.clinic)
    _check_change_allowed(intake_call, now, rules=rules)
    return rules


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
                raise SlotTaken(_(MSG_SLOT_UNAVAILABLE))
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
        raise SlotTaken(_(MSG_SLOT_UNAVAILABLE)) from exc
    return intake_call


# --- Interest in programs under development (double opt-in) -------------------------------

INTEREST_MAX_AGE = timedelta(days=7)
INTEREST_CONFIRM = "intake.interest_confirm"

MSG_INTEREST_LINK_UNKNOWN = gettext_noop(
    "This link is not valid, or it has expired. Please register again: we will send you a new link."
)
MSG_INTEREST_EXPIRED = gettext_noop(
    "This link has expired (links work for 7 days). Please register again: we will send you a new link."
)


class InterestError(Exception):
    """A confirmation link that cannot be used; `str()` is a sentence for the person."""


def interest_register(
    *,
    name: str,
    email: str,
    concern: str,
    clinic: Clinic | None,
    language: str,
    consent: bool,
    consent_page: str,
    consent_wording: str,
    now: datetime | None = None,
) -> None:
    """Someone asks to hear when a program opens. The registration is
    pending until the owner of the address opens the link we e-mail to it
    (double opt-in): a stranger typing someone else's address changes
    nothing that counts.

    One registration per address (in any case) and program. A confirmed one
    is never changed by a later registration; a pending one is replaced by
    the newer one, whose link is the only one that works. Whatever happens,
    the caller shows the same page, so it reveals nothing about who has
    registered. The raw token travels as a booking request's does (see
    booking_request): hashed here, in the outbox row only until sent."""
    if not consent:
        raise ValueError("a registration needs the person's consent to be e-mailed")
    now = now or timezone.now()
    email = email.strip().lower()
    token, digest = _new_token()
    registration = InterestRegistration(
        name=name.strip(),
        email=email,
        concern=concern,
        clinic=clinic,
        language=language,
        consent_to_contact=True,
        created_at=now,
        consent_page=consent_page[:300],
        consent_wording=consent_wording,
        token_hash=digest,
        expires_at=now + INTEREST_MAX_AGE,
    )
    registration.full_clean(exclude=["clinic"], validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            existing = (
                InterestRegistration.objects.select_for_update()
                .filter(email=email, concern=concern)
                .first()
            )
            if existing is not None and existing.is_confirmed:
                return
            if existing is not None:
                existing.delete()
            registration.save()
            outbox_enqueue(
                kind=INTEREST_CONFIRM,
                key=str(registration.uuid),
                payload={"registration": str(registration.uuid), "token": token},
            )
    except IntegrityError:
        # Another registration of the address committed meanwhile: it stands.
        return


def _registration_for_token(token: str, *, now: datetime) -> InterestRegistration:
    registration = InterestRegistration.objects.filter(token_hash=token_digest(token)).first()
    if registration is None:
        raise InterestError(_(MSG_INTEREST_LINK_UNKNOWN))
    if not registration.is_confirmed and registration.expires_at <= now:
        raise InterestError(_(MSG_INTEREST_EXPIRED))
    return registration


def interest_registration_for_link(
    *, token: str, now: datetime | None = None
) -> InterestRegistration:
    """The registration a confirmation link stands for, confirmed or still
    confirmable; else InterestError saying why."""
    return _registration_for_token(token, now=now or timezone.now())


def interest_confirm(*, token: str, now: datetime | None = None) -> InterestRegistration:
    """The owner of the address opened the link: the registration counts
    from now (`confirmed_at`, the CASL record of the confirmation). A link
    opened again finds it confirmed and changes nothing."""
    now = now or timezone.now()
    registration = _registration_for_token(token, now=now)
    if registration.is_confirmed:
        return registration
    confirmed = InterestRegistration.objects.filter(
        pk=registration.pk, confirmed_at__isnull=True
    ).update(confirmed_at=now)
    if not confirmed:
        # Replaced by a newer registration (this link died with it) or
        # confirmed by the same link a moment ago.
        current = InterestRegistration.objects.filter(pk=registration.pk).first()
        if current is None:
            raise InterestError(_(MSG_INTEREST_LINK_UNKNOWN))
        return current
    registration.confirmed_at = now
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
MSG_CALL_CANCELLED = gettext_noop("This call was cancelled: it has no outcome to record.")
MSG_NO_OUTCOME_YET = gettext_noop(
    "No outcome is recorded for this call yet: record it before correcting it."
)
MSG_CORRECTION_REASON = gettext_noop("Please say why you are correcting the outcome.")
MSG_CORRECTION_STALE = gettext_noop(
    "Someone else changed the outcome of this call while you were looking at it. "
    "Reload the page to see it, then correct it again if needed."
)
MSG_CORRECTION_UNCHANGED = gettext_noop(
    "This correction changes nothing: change the outcome or the notes."
)
MSG_HELD_CALL_MOVED_COURSE = gettext_noop(
    "This call cannot become a no-show: it is the held intake call that let the course "
    "move on from connect, and the journey has no step back. You can correct the notes "
    "instead (the outcome stays held), and if the client should not go on, put the course "
    "on hold with a reason from the course page."
)
# The journey event's reason when a held call completes the connect stage.
EVENT_CALL_HELD = gettext_noop("Intake call held")
EVENT_CALL_HELD_CORRECTED = gettext_noop("Intake call outcome corrected to held")

Outcome = IntakeCallOutcome.Outcome


def _outcome_status(outcome: str) -> str:
    if outcome not in Outcome.values:
        raise ValueError(f"unknown intake call outcome {outcome!r}")
    # The appointment's statuses and the outcomes share their codes.
    return Appointment.Status(outcome)


def _lock_for_outcome(intake_call: IntakeCall) -> tuple[IntakeCall, Course]:
    """Lock the call's row, then its course's: every write about a call's
    outcome takes both, in this order, so a record and a correction of one
    call queue behind each other, and so do corrections of two calls of one
    course (each checks that the other's held call still stands)."""
    call = IntakeCall.objects.select_for_update().get(pk=intake_call.pk)
    course = Course.objects.select_for_update().get(pk=call.course_id)
    return call, course


def intake_call_record_outcome(
    *, intake_call: IntakeCall, outcome: str, notes: str, actor: User, now: datetime | None = None
) -> IntakeCallOutcome:
    """A clinician marks the call held or no-show, with notes, once; who did
    it and when is kept with them. A second record (another clinician
    sending the form at the same time, or an old page) is refused: changing
    a recorded outcome is a correction (`intake_call_correct_outcome`).

    A held call is one of the conditions for leaving the connect stage: when
    it is the last one met, the course moves on to prepare in the same
    transaction."""
    now = now or timezone.now()
    appointment = intake_call.appointment
    status = _outcome_status(outcome)
    if not is_clinician_of(actor, appointment.clinic_id):
        raise BookingError(_(MSG_CLINICIANS_ONLY))
    if appointment.start > now:
        raise BookingError(_(MSG_NOT_STARTED))
    try:
        with transaction.atomic():
            call, course = _lock_for_outcome(intake_call)
            if IntakeCallOutcome.objects.filter(call=call).exists():
                raise BookingError(_(MSG_OUTCOME_RECORDED))
            if appointment.status == Appointment.Status.CANCELLED:
                raise BookingError(_(MSG_CALL_CANCELLED))
            calendar.appointment_mark(
                appointment=appointment, status=status, now=now, was=Appointment.Status.BOOKED
            )
            record = IntakeCallOutcome(
                call=call, outcome=outcome, notes=notes.strip(), by=actor, at=now
            )
            record.full_clean(exclude=["call", "by", "corrects"], validate_constraints=False)
            record.save()
            if status == Appointment.Status.HELD:
                journey.course_advance(course=course, cause=_(EVENT_CALL_HELD), by=actor)
    except (calendar.CalendarConflict, IntegrityError) as exc:
        # The mark's conditional update, or the one-first-record constraint
        # behind it: someone recorded the outcome in the meantime.
        raise BookingError(_(MSG_OUTCOME_RECORDED)) from exc
    intake_call.appointment.refresh_from_db()
    return record


def intake_call_correct_outcome(
    *,
    intake_call: IntakeCall,
    outcome: str,
    notes: str,
    reason: str,
    actor: User,
    seen_outcome_id: int | None,
    now: datetime | None = None,
) -> IntakeCallOutcome:
    """A clinician of the call's clinic corrects its recorded outcome (held
    that was a no-show, or the reverse) or only its notes, saying why. The
    correction is a new record pointing to the one it corrects; nothing is
    overwritten.

    `seen_outcome_id` is the record the clinician was looking at: when it is
    no longer the current one (someone corrected it meanwhile) the correction
    is refused as stale rather than silently replacing theirs. The call's row
    is locked first (`_lock_for_outcome`), so two corrections of one call
    queue and the second sees the first.

    The journey has no step back: a held call that let the course leave
    connect (prepare or later, on hold from there, or ended after) cannot
    become a no-show unless another held intake call of the course still
    stands. The course row is locked too, so two corrections of the course's
    two held calls at once cannot both take that last condition away. A
    no-show corrected to held may complete the connect stage, as a first
    record would."""
    now = now or timezone.now()
    appointment = intake_call.appointment
    _outcome_status(outcome)
    if not is_clinician_of(actor, appointment.clinic_id):
        raise BookingError(_(MSG_CLINICIANS_ONLY))
    reason, notes = reason.strip(), notes.strip()
    if not reason:
        raise BookingError(_(MSG_CORRECTION_REASON))
    try:
        with transaction.atomic():
            call, course = _lock_for_outcome(intake_call)
            current = selectors.current_outcome(call)
            if current is None:
                raise BookingError(_(MSG_NO_OUTCOME_YET))
            if current.pk != seen_outcome_id:
                raise BookingError(_(MSG_CORRECTION_STALE))
            if outcome == current.outcome and notes == current.notes:
                raise BookingError(_(MSG_CORRECTION_UNCHANGED))
            if (
                (current.outcome, outcome) == (Outcome.HELD, Outcome.NO_SHOW)
                and selectors.course_left_connect(course)
                and not selectors.has_held_intake_call(course, other_than=call)
            ):
                raise BookingError(_(MSG_HELD_CALL_MOVED_COURSE))
            # `was`: the appointment must still say what the current record
            # says, the last line if anything changed it outside this lock.
            calendar.appointment_mark(
                appointment=appointment, status=outcome, now=now, was=current.outcome
            )
            correction = IntakeCallOutcome(
                call=call,
                outcome=outcome,
                notes=notes,
                by=actor,
                at=now,
                corrects=current,
                reason=reason,
            )
            correction.full_clean(exclude=["call", "by", "corrects"], validate_constraints=False)
            correction.save()
            if (current.outcome, outcome) == (Outcome.NO_SHOW, Outcome.HELD):
                journey.course_advance(course=course, cause=_(EVENT_CALL_HELD_CORRECTED), by=actor)
    except (calendar.CalendarConflict, IntegrityError) as exc:
        # The appointment's status moved, or the record was corrected by a
        # concurrent correction (one correction per record: a database rule).
        raise BookingError(_(MSG_CORRECTION_STALE)) from exc
    intake_call.appointment.refresh_from_db()
    return correction


def held_intake_call_guard(course: Course) -> list[str]:
    """Connect -> prepare needs a held intake call (registered in IntakeConfig.ready)."""
    if selectors.has_held_intake_call(course):
        return []
    return [_("The intake call must have taken place first.")]
